// The agent's metrics, kept in the process and written in Prometheus text format
// (exposition format 0.0.4) by the local listener's /metrics. A small writer rather than
// prom-client: the agent exposes a dozen series, its idle memory is a tracked figure
// (`npm run bench -- agent`) and prom-client would be bundled into the bin with its
// dependencies and default collectors; the orchestrator writes its own the same way
// (core/src/metrics.ts). promtool checks the output in the agent's health test.

/** Call durations in seconds: a check is ~ms, an action (a restart, a backup) minutes. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

interface Histogram {
  buckets: number[]
  count: number
  sum: number
}

/** What is read when scraped rather than counted as it happens. */
export interface MetricsSnapshot {
  outboxEntries: number
  outboxBytes: number
  outboxFull: boolean
  quarantined: number
  /** Seconds since the epoch of the last /plugins answer applied; undefined before the first. */
  lastSyncSeconds: number | undefined
  /** Desired plugins by state: loaded, failed, not_allowed. */
  plugins: { name: string; version: string; state: string }[]
  sandbox: { restarts: number; rssBytes: number } | undefined
  ready: boolean
  credentialAgeSeconds: number | undefined
}

export class AgentMetrics {
  private readonly calls = new Map<string, number>()
  private readonly durations = new Map<string, Histogram>()
  syncErrors = 0
  credentialRotations = 0

  /** A finished plugin call: `outcome` is `ok` or the error's code. */
  observeCall(plugin: string, outcome: string, seconds: number): void {
    const key = `plugin="${esc(plugin)}",outcome="${esc(outcome)}"`
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1)
    let h = this.durations.get(plugin)
    if (!h) {
      h = { buckets: new Array<number>(DURATION_BUCKETS.length).fill(0), count: 0, sum: 0 }
      this.durations.set(plugin, h)
    }
    h.count++
    h.sum += seconds
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (seconds <= DURATION_BUCKETS[i]!) h.buckets[i]!++
  }

  render(s: MetricsSnapshot): string {
    const out: string[] = []
    const family = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)

    family(
      'stavily_agent_plugin_calls_total',
      'counter',
      'Plugin calls by plugin and outcome (ok or the error code).',
    )
    for (const [labels, n] of this.calls) out.push(`stavily_agent_plugin_calls_total{${labels}} ${n}`)

    family('stavily_agent_plugin_call_duration_seconds', 'histogram', 'Wall time of plugin calls, by plugin.')
    for (const [plugin, h] of this.durations) {
      const p = `plugin="${esc(plugin)}"`
      for (const [i, b] of DURATION_BUCKETS.entries())
        out.push(`stavily_agent_plugin_call_duration_seconds_bucket{${p},le="${b}"} ${h.buckets[i]}`)
      out.push(`stavily_agent_plugin_call_duration_seconds_bucket{${p},le="+Inf"} ${h.count}`)
      out.push(`stavily_agent_plugin_call_duration_seconds_sum{${p}} ${h.sum}`)
      out.push(`stavily_agent_plugin_call_duration_seconds_count{${p}} ${h.count}`)
    }

    family(
      'stavily_agent_ready',
      'gauge',
      '1 when /readyz answers 200 (enrolled, plugins synced, outbox healthy).',
    )
    out.push(`stavily_agent_ready ${s.ready ? 1 : 0}`)

    family('stavily_agent_outbox_entries', 'gauge', 'Reports waiting in the durable outbox.')
    out.push(`stavily_agent_outbox_entries ${s.outboxEntries}`)
    family('stavily_agent_outbox_bytes', 'gauge', 'Bytes the outbox holds on disk.')
    out.push(`stavily_agent_outbox_bytes ${s.outboxBytes}`)
    family(
      'stavily_agent_outbox_full',
      'gauge',
      '1 when the outbox reached its size cap (new sensor events are dropped).',
    )
    out.push(`stavily_agent_outbox_full ${s.outboxFull ? 1 : 0}`)
    family(
      'stavily_agent_outbox_quarantined',
      'gauge',
      'Reports the orchestrator refused, kept in outbox-quarantine/.',
    )
    out.push(`stavily_agent_outbox_quarantined ${s.quarantined}`)

    family('stavily_agent_plugin_sync_errors_total', 'counter', 'Failed reads of the desired plugin set.')
    out.push(`stavily_agent_plugin_sync_errors_total ${this.syncErrors}`)
    if (s.lastSyncSeconds !== undefined) {
      family(
        'stavily_agent_plugin_sync_last_success_timestamp_seconds',
        'gauge',
        'When the desired plugin set was last read and applied.',
      )
      out.push(`stavily_agent_plugin_sync_last_success_timestamp_seconds ${s.lastSyncSeconds}`)
    }
    family(
      'stavily_agent_plugin_state',
      'gauge',
      'Desired plugins by state (loaded, failed, not_allowed); 1 per plugin.',
    )
    for (const p of s.plugins)
      out.push(
        `stavily_agent_plugin_state{plugin="${esc(p.name)}",version="${esc(p.version)}",state="${esc(p.state)}"} 1`,
      )

    if (s.sandbox) {
      family(
        'stavily_agent_sandbox_restarts_total',
        'counter',
        'Times the sandbox host process was restarted.',
      )
      out.push(`stavily_agent_sandbox_restarts_total ${s.sandbox.restarts}`)
      family(
        'stavily_agent_sandbox_resident_memory_bytes',
        'gauge',
        'Resident memory of the sandbox host process.',
      )
      out.push(`stavily_agent_sandbox_resident_memory_bytes ${s.sandbox.rssBytes}`)
    }
    family('stavily_agent_resident_memory_bytes', 'gauge', 'Resident memory of the agent process.')
    out.push(`stavily_agent_resident_memory_bytes ${process.memoryUsage.rss()}`)

    family('stavily_agent_credential_rotations_total', 'counter', 'Credential rotations by this process.')
    out.push(`stavily_agent_credential_rotations_total ${this.credentialRotations}`)
    if (s.credentialAgeSeconds !== undefined) {
      family('stavily_agent_credential_age_seconds', 'gauge', 'Age of the credential in use.')
      out.push(`stavily_agent_credential_age_seconds ${Math.round(s.credentialAgeSeconds)}`)
    }
    return `${out.join('\n')}\n`
  }
}

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
