// In-process metrics, rendered in Prometheus text format by /metrics. Gauges that are the
// truth of the whole cluster (queue depth, agents online) are read from PostgreSQL when
// scraped; counters and the pickup histogram are this instance's.

// Pickup latency buckets in seconds: wake-ups are ~ms, polling fallback ~s.
const PICKUP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export class Metrics {
  readonly resultsByStatus = new Map<string, number>()
  readonly pickupBuckets = new Array<number>(PICKUP_BUCKETS.length).fill(0)
  pickupCount = 0
  pickupSum = 0
  dispatched = 0
  leasesExpired = 0
  deadLettered = 0

  observePickup(seconds: number): void {
    this.pickupCount++
    this.pickupSum += seconds
    for (let i = 0; i < PICKUP_BUCKETS.length; i++)
      if (seconds <= PICKUP_BUCKETS[i]!) this.pickupBuckets[i]!++
  }

  countResult(status: string): void {
    this.resultsByStatus.set(status, (this.resultsByStatus.get(status) ?? 0) + 1)
  }

  render(gauges: {
    queueDepth: { orgId: string; kind: string; pool: string; count: number }[]
    agents: { status: string; count: number }[]
    agentsPresent: number
    parkedPolls: number
    fleetHealthy: boolean
  }): string {
    const out: string[] = []
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    out.push(
      '# HELP stavily_queue_depth Instructions waiting for an agent.',
      '# TYPE stavily_queue_depth gauge',
    )
    for (const q of gauges.queueDepth) {
      out.push(
        `stavily_queue_depth{org="${esc(q.orgId)}",kind="${esc(q.kind)}",pool="${esc(q.pool)}"} ${q.count}`,
      )
    }
    out.push('# HELP stavily_agents Agents by status (cluster-wide).', '# TYPE stavily_agents gauge')
    for (const a of gauges.agents) out.push(`stavily_agents{status="${esc(a.status)}"} ${a.count}`)
    out.push(
      '# HELP stavily_agents_online Agents with a live presence.',
      '# TYPE stavily_agents_online gauge',
    )
    out.push(`stavily_agents_online ${gauges.agentsPresent}`)
    out.push(
      '# HELP stavily_parked_polls Long-polls held by this instance.',
      '# TYPE stavily_parked_polls gauge',
    )
    out.push(`stavily_parked_polls ${gauges.parkedPolls}`)
    out.push(
      '# HELP stavily_fleet_healthy 1 when Redis (fleet state) is reachable.',
      '# TYPE stavily_fleet_healthy gauge',
    )
    out.push(`stavily_fleet_healthy ${gauges.fleetHealthy ? 1 : 0}`)
    out.push(
      '# HELP stavily_pickup_latency_seconds Time from enqueue to an agent holding the instruction.',
      '# TYPE stavily_pickup_latency_seconds histogram',
    )
    for (const [i, b] of PICKUP_BUCKETS.entries()) {
      out.push(`stavily_pickup_latency_seconds_bucket{le="${b}"} ${this.pickupBuckets[i]}`)
    }
    out.push(`stavily_pickup_latency_seconds_bucket{le="+Inf"} ${this.pickupCount}`)
    out.push(`stavily_pickup_latency_seconds_sum ${this.pickupSum}`)
    out.push(`stavily_pickup_latency_seconds_count ${this.pickupCount}`)
    out.push(
      '# HELP stavily_results_total Results reported by agents, by status.',
      '# TYPE stavily_results_total counter',
    )
    for (const [s, n] of this.resultsByStatus) out.push(`stavily_results_total{status="${esc(s)}"} ${n}`)
    out.push(
      '# HELP stavily_instructions_dispatched_total Instructions handed to agents.',
      '# TYPE stavily_instructions_dispatched_total counter',
    )
    out.push(`stavily_instructions_dispatched_total ${this.dispatched}`)
    out.push(
      '# HELP stavily_leases_expired_total Leases that ran out before a result.',
      '# TYPE stavily_leases_expired_total counter',
    )
    out.push(`stavily_leases_expired_total ${this.leasesExpired}`)
    out.push(
      '# HELP stavily_dead_lettered_total Instructions that failed their last attempt.',
      '# TYPE stavily_dead_lettered_total counter',
    )
    out.push(`stavily_dead_lettered_total ${this.deadLettered}`)
    return `${out.join('\n')}\n`
  }
}
