import {
  defineSensor,
  type EmittedEvent,
  emitReliably,
  flushPendingEvents,
  type JsonValue,
  Type,
} from '@stavily/sdk'
import { Config, checkConfig, METRICS, type Metric } from './config.ts'
import { fingerprint } from './hash.ts'
import { type CpuTimes, cpuPercent, parseLoadavg, parseMeminfo, parseStat, round } from './proc.ts'
import { type MetricState, readMetricState, step } from './transition.ts'

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()])

/** Every reading of the check, so a workflow can report the whole picture. */
const Snapshot = Type.Object({
  cpuPercent: Nullable(Type.Number()),
  memoryPercent: Type.Number(),
  memoryUsedBytes: Type.Number(),
  memoryTotalBytes: Type.Number(),
  swapPercent: Nullable(Type.Number()),
  load1: Type.Number(),
  load5: Type.Number(),
  load15: Type.Number(),
  cpus: Type.Integer(),
})

const MetricName = Type.Union((Object.keys(METRICS) as Metric[]).map((m) => Type.Literal(m)))
const Unit = Type.Union([Type.Literal('%'), Type.Literal('load')])

const Over = Type.Object({
  name: Type.String(),
  metric: MetricName,
  value: Type.Number(),
  threshold: Type.Number(),
  unit: Unit,
  /** When the first reading of the streak over the threshold was taken. */
  since: Type.String(),
  consecutiveChecks: Type.Integer(),
  metrics: Snapshot,
})

const Recovered = Type.Object({
  name: Type.String(),
  metric: MetricName,
  value: Type.Number(),
  threshold: Type.Number(),
  unit: Unit,
  /** When it went over, or null if the sensor did not see it happen. */
  since: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Union([Type.Integer(), Type.Null()]),
  metrics: Snapshot,
})

interface HostState {
  name: string
  cpu: CpuTimes | null
  metrics: Partial<Record<Metric, MetricState>>
}

/**
 * Reads /proc/stat, /proc/meminfo and /proc/loadavg on each check, compares the metrics that
 * have a threshold, and emits `host-metrics.threshold` when one goes over and
 * `host-metrics.recovered` when it comes back, once each: the state of each metric and the
 * last CPU counters are kept in ctx.state. CPU is the busy share since the previous check.
 */
export default defineSensor({
  config: Config,
  event: Type.Union([Over, Recovered]),

  async check(ctx) {
    const settings = checkConfig(ctx.config)
    const id = fingerprint(settings.name)
    const stateKey = `host:${id}`
    const pendingKey = `pending:${id}`
    await flushPendingEvents(ctx, pendingKey)
    const previous = readHostState(await ctx.state.get(stateKey), settings.name)

    const read = (file: string) => ctx.fs.readText(`${settings.procRoot}/${file}`)
    const statFile = `${settings.procRoot}/stat`
    let before = previous.cpu
    if (before === null && 'cpuPercent' in settings.thresholds) {
      // No earlier reading to compare with: take two, cpuSampleMs apart.
      before = parseStat(await read('stat'), statFile)
      await ctx.sleep(settings.cpuSampleMs)
    }
    const cpu = parseStat(await read('stat'), statFile)
    const memory = parseMeminfo(await read('meminfo'), `${settings.procRoot}/meminfo`)
    const load = parseLoadavg(await read('loadavg'), `${settings.procRoot}/loadavg`)
    const snapshot = {
      cpuPercent: before === null ? null : cpuPercent(before, cpu),
      memoryPercent: memory.percent,
      memoryUsedBytes: memory.usedBytes,
      memoryTotalBytes: memory.totalBytes,
      swapPercent: memory.swapPercent,
      ...load,
      cpus: cpu.cpus,
    }
    const perCpu = (n: number) => (settings.loadPerCpu ? round(n / cpu.cpus) : n)
    const values: Record<Metric, number | null> = {
      cpuPercent: snapshot.cpuPercent,
      memoryPercent: snapshot.memoryPercent,
      swapPercent: snapshot.swapPercent,
      load1: perCpu(load.load1),
      load5: perCpu(load.load5),
      load15: perCpu(load.load15),
    }
    ctx.log.debug('host metrics', { name: settings.name, ...values })

    const now = new Date().toISOString()
    const next: HostState = { name: settings.name, cpu, metrics: {} }
    const events: EmittedEvent<JsonValue>[] = []
    for (const [metric, threshold] of Object.entries(settings.thresholds) as [Metric, number][]) {
      const value = values[metric]
      const { next: state, crossing } = step(
        previous.metrics[metric] ?? readMetricState(undefined),
        value,
        now,
        {
          threshold,
          hysteresis: settings.hysteresis,
          forChecks: settings.forChecks,
        },
      )
      next.metrics[metric] = state
      if (crossing === undefined || value === null) continue
      const common = {
        name: settings.name,
        metric,
        value,
        threshold,
        unit: METRICS[metric],
        metrics: snapshot,
      }
      if (crossing.kind === 'over') {
        ctx.log.warn('metric over its threshold', { name: settings.name, metric, value, threshold })
        events.push({
          type: 'host-metrics.threshold',
          data: { ...common, since: crossing.since, consecutiveChecks: crossing.checks },
          // Names the episode by when it began: emitted again after a failed check, it starts no second run.
          dedupeKey: `host-metrics:${id}:${metric}:over:${crossing.since}`,
          occurredAt: now,
        })
      } else if (settings.notifyRecovered) {
        const durationMs = crossing.since === null ? null : Date.parse(now) - Date.parse(crossing.since)
        ctx.log.info('metric recovered', { name: settings.name, metric, value, threshold })
        events.push({
          type: 'host-metrics.recovered',
          data: {
            ...common,
            since: crossing.since,
            durationMs: durationMs !== null && Number.isFinite(durationMs) ? durationMs : null,
          },
          dedupeKey: `host-metrics:${id}:${metric}:recovered:${crossing.since ?? now}`,
          occurredAt: now,
        })
      }
    }
    await emitReliably(ctx, pendingKey, events, () => ctx.state.set(stateKey, next as unknown as JsonValue))
  },
})

function readHostState(value: unknown, name: string): HostState {
  const fresh: HostState = { name, cpu: null, metrics: {} }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fresh
  const v = value as Record<string, unknown>
  if (v.name !== name) return fresh
  const c = v.cpu as Record<string, unknown> | null
  const cpu =
    c !== null &&
    typeof c === 'object' &&
    typeof c.total === 'number' &&
    typeof c.idle === 'number' &&
    typeof c.cpus === 'number'
      ? { total: c.total, idle: c.idle, cpus: c.cpus }
      : null
  const metrics: HostState['metrics'] = {}
  const stored =
    typeof v.metrics === 'object' && v.metrics !== null ? (v.metrics as Record<string, unknown>) : {}
  for (const metric of Object.keys(METRICS) as Metric[]) {
    if (metric in stored) metrics[metric] = readMetricState(stored[metric])
  }
  return { name, cpu, metrics }
}
