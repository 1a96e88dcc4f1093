import {
  defineSensor,
  type EmittedEvent,
  emitReliably,
  fingerprint,
  flushPendingEvents,
  type JsonValue,
  PluginError,
  type SensorContext,
  Type,
} from '@stavily/sdk'
import { Config, checkConfig, DEFAULTS, METRICS, type Metric } from './config.ts'
import { type Disk, dfArgs, parseDf } from './disk.ts'
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
  /** Each listed disk (with a diskPercent threshold only). */
  disks: Type.Optional(
    Type.Array(
      Type.Object({
        path: Type.String(),
        mount: Type.String(),
        percent: Type.Number(),
        usedBytes: Type.Number(),
        availableBytes: Type.Number(),
      }),
    ),
  ),
})

const MetricName = Type.Union((Object.keys(METRICS) as Metric[]).map((m) => Type.Literal(m)))
const Unit = Type.Union([Type.Literal('%'), Type.Literal('load')])

const Over = Type.Object({
  name: Type.String(),
  metric: MetricName,
  /** For diskPercent: the path the config lists and the mount point df reports for it. */
  path: Type.Optional(Type.String()),
  mount: Type.Optional(Type.String()),
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
  /** For diskPercent: the path the config lists and the mount point df reports for it. */
  path: Type.Optional(Type.String()),
  mount: Type.Optional(Type.String()),
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
  /** diskPercent's state, per listed path. */
  disks: Record<string, MetricState>
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
    const disks = settings.disks.length === 0 ? [] : await readDisks(ctx, settings.disks)
    const snapshot = {
      cpuPercent: before === null ? null : cpuPercent(before, cpu),
      memoryPercent: memory.percent,
      memoryUsedBytes: memory.usedBytes,
      memoryTotalBytes: memory.totalBytes,
      swapPercent: memory.swapPercent,
      ...load,
      cpus: cpu.cpus,
      ...(disks.length === 0 ? {} : { disks }),
    }
    const perCpu = (n: number) => (settings.loadPerCpu ? round(n / cpu.cpus) : n)
    const values: Record<Exclude<Metric, 'diskPercent'>, number | null> = {
      cpuPercent: snapshot.cpuPercent,
      memoryPercent: snapshot.memoryPercent,
      swapPercent: snapshot.swapPercent,
      load1: perCpu(load.load1),
      load5: perCpu(load.load5),
      load15: perCpu(load.load15),
    }
    ctx.log.debug('host metrics', { name: settings.name, ...values })

    const now = new Date().toISOString()
    const next: HostState = { name: settings.name, cpu, metrics: {}, disks: {} }
    const events: EmittedEvent<JsonValue>[] = []
    // One comparison per metric, and one per listed disk for diskPercent.
    const readings: { metric: Metric; value: number | null; disk?: Disk }[] = []
    for (const metric of Object.keys(settings.thresholds) as Metric[]) {
      if (metric === 'diskPercent')
        for (const disk of disks) readings.push({ metric, value: disk.percent, disk })
      else readings.push({ metric, value: values[metric] })
    }
    for (const { metric, value, disk } of readings) {
      const threshold = settings.thresholds[metric]!
      const before = disk === undefined ? previous.metrics[metric] : previous.disks[disk.path]
      const { next: state, crossing } = step(before ?? readMetricState(undefined), value, now, {
        threshold,
        hysteresis: settings.hysteresis,
        forChecks: settings.forChecks,
      })
      if (disk === undefined) next.metrics[metric] = state
      else next.disks[disk.path] = state
      if (crossing === undefined || value === null) continue
      const common = {
        name: settings.name,
        metric,
        ...(disk === undefined ? {} : { path: disk.path, mount: disk.mount }),
        value,
        threshold,
        unit: METRICS[metric],
        metrics: snapshot,
      }
      // A disk's episodes are its own: the path is part of the dedupe key.
      const subject = disk === undefined ? metric : `${metric}:${disk.path}`
      if (crossing.kind === 'over') {
        ctx.log.warn('metric over its threshold', {
          name: settings.name,
          metric,
          path: disk?.path ?? null,
          value,
          threshold,
        })
        events.push({
          type: 'host-metrics.threshold',
          data: { ...common, since: crossing.since, consecutiveChecks: crossing.checks },
          // Names the episode by when it began: emitted again after a failed check, it starts no second run.
          dedupeKey: `host-metrics:${id}:${subject}:over:${crossing.since}`,
          occurredAt: now,
        })
      } else if (settings.notifyRecovered) {
        const durationMs = crossing.since === null ? null : Date.parse(now) - Date.parse(crossing.since)
        ctx.log.info('metric recovered', {
          name: settings.name,
          metric,
          path: disk?.path ?? null,
          value,
          threshold,
        })
        events.push({
          type: 'host-metrics.recovered',
          data: {
            ...common,
            since: crossing.since,
            durationMs: durationMs !== null && Number.isFinite(durationMs) ? durationMs : null,
          },
          dedupeKey: `host-metrics:${id}:${subject}:recovered:${crossing.since ?? now}`,
          occurredAt: now,
        })
      }
    }
    await emitReliably(ctx, pendingKey, events, () => ctx.state.set(stateKey, next as unknown as JsonValue))
  },
})

/** Every listed path's disk usage, through one `df -P` of the operator's granted `df`. */
async function readDisks(ctx: Pick<SensorContext, 'exec'>, paths: string[]): Promise<Disk[]> {
  const r = await ctx.exec('df', dfArgs(paths), { timeoutMs: DEFAULTS.dfTimeoutMs })
  if (r.timedOut || r.code !== 0) {
    const why = r.timedOut ? `timed out after ${DEFAULTS.dfTimeoutMs} ms` : `exited with ${r.code}`
    throw new PluginError(
      'HOST_METRICS_DF_FAILED',
      `df -P ${paths.join(' ')} ${why}: ${r.stderr.trim().slice(0, 500)}`,
      {
        retryable: r.timedOut,
        data: { command: 'df', paths, code: r.code },
      },
    )
  }
  return parseDf(r.stdout, paths)
}

function readHostState(value: unknown, name: string): HostState {
  const fresh: HostState = { name, cpu: null, metrics: {}, disks: {} }
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
  const disks: HostState['disks'] = {}
  if (typeof v.disks === 'object' && v.disks !== null && !Array.isArray(v.disks)) {
    for (const [path, state] of Object.entries(v.disks)) disks[path] = readMetricState(state)
  }
  return { name, cpu, metrics, disks }
}
