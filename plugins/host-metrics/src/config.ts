import { ErrorCodes, PluginError, type Static, Type } from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** Linux's own place; a container that mounts the host's /proc uses /host/proc, as node_exporter does. */
  procRoot: '/proc',
  /** One check over the threshold is enough: raise it for metrics that spike (CPU). */
  forChecks: 1,
  /** The first check has no earlier CPU reading: it takes two, this far apart (long enough to mean something). */
  cpuSampleMs: 1000,
  notifyRecovered: true,
  /** With a diskPercent threshold and no disks listed: the root file system. */
  disks: ['/'],
  /** df answers at once on a healthy mount; a hung NFS mount must not hold the check for long. */
  dfTimeoutMs: 10_000,
} as const

/** The metrics a threshold can be set on, with the unit of their value. */
export const METRICS = {
  cpuPercent: '%',
  memoryPercent: '%',
  swapPercent: '%',
  load1: 'load',
  load5: 'load',
  load15: 'load',
  diskPercent: '%',
} as const

export type Metric = keyof typeof METRICS

const percent = (what: string) => Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: what }))
const load = (what: string) => Type.Optional(Type.Number({ minimum: 0, maximum: 100_000, description: what }))

export const Config = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Names the host in events and keeps its state (default "localhost")',
      }),
    ),
    procRoot: Type.Optional(
      Type.Union([Type.Literal('/proc'), Type.Literal('/host/proc')], {
        description: 'Where the host proc file system is mounted',
      }),
    ),
    thresholds: Type.Object(
      {
        cpuPercent: percent('Busy share of all CPUs since the last check, percent'),
        memoryPercent: percent('Memory in use (total minus available), percent'),
        swapPercent: percent('Swap in use, percent'),
        load1: load('1-minute load average (per CPU with loadPerCpu)'),
        load5: load('5-minute load average (per CPU with loadPerCpu)'),
        load15: load('15-minute load average (per CPU with loadPerCpu)'),
        diskPercent: percent('Space in use on each listed disk, percent (df -P: used / (used + available))'),
      },
      { additionalProperties: false },
    ),
    loadPerCpu: Type.Optional(
      Type.Boolean({ description: 'Divide the load averages by the number of CPUs' }),
    ),
    hysteresis: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 100_000,
        description: 'A metric recovers only once it is this far below its threshold (default 0)',
      }),
    ),
    disks: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), {
        minItems: 1,
        maxItems: 32,
        description: 'Absolute paths whose file system diskPercent watches (default ["/"]), read with df -P',
      }),
    ),
    forChecks: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cpuSampleMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 10_000 })),
    notifyRecovered: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

export type HostMetricsConfig = Static<typeof Config>

export interface Settings {
  name: string
  procRoot: string
  thresholds: Partial<Record<Metric, number>>
  loadPerCpu: boolean
  hysteresis: number
  forChecks: number
  cpuSampleMs: number
  notifyRecovered: boolean
  /** Paths whose disk usage is compared with thresholds.diskPercent; empty without it. */
  disks: string[]
}

export function checkConfig(config: HostMetricsConfig): Settings {
  const thresholds: Partial<Record<Metric, number>> = {}
  for (const metric of Object.keys(METRICS) as Metric[]) {
    const value = config.thresholds[metric]
    if (value !== undefined) thresholds[metric] = value
  }
  if (Object.keys(thresholds).length === 0) {
    throw invalid('thresholds', `set at least one of ${Object.keys(METRICS).join(', ')}`)
  }
  if (
    config.loadPerCpu !== undefined &&
    !('load1' in thresholds || 'load5' in thresholds || 'load15' in thresholds)
  ) {
    throw invalid('loadPerCpu', 'is only used with a load1, load5 or load15 threshold')
  }
  const disks = checkDisks(config, 'diskPercent' in thresholds)
  return {
    disks,
    name: config.name ?? 'localhost',
    procRoot: config.procRoot ?? DEFAULTS.procRoot,
    thresholds,
    loadPerCpu: config.loadPerCpu ?? false,
    hysteresis: config.hysteresis ?? 0,
    forChecks: config.forChecks ?? DEFAULTS.forChecks,
    cpuSampleMs: config.cpuSampleMs ?? DEFAULTS.cpuSampleMs,
    notifyRecovered: config.notifyRecovered ?? DEFAULTS.notifyRecovered,
  }
}

function checkDisks(config: HostMetricsConfig, watched: boolean): string[] {
  if (config.disks === undefined) return watched ? [...DEFAULTS.disks] : []
  if (!watched) throw invalid('disks', 'is only used with a diskPercent threshold')
  const seen = new Set<string>()
  config.disks.forEach((path, i) => {
    if (!path.startsWith('/')) throw invalid(`disks[${i}]`, `${JSON.stringify(path)} is not an absolute path`)
    if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
      throw invalid(`disks[${i}]`, `${JSON.stringify(path)} contains "." or ".." segments`)
    }
    if (seen.has(path)) throw invalid(`disks[${i}]`, `${JSON.stringify(path)} is listed twice`)
    seen.add(path)
  })
  return [...config.disks]
}

function invalid(field: string, message: string): PluginError {
  return new PluginError(ErrorCodes.INVALID_CONFIG, `config.${field}: ${message}`, { data: { field } })
}
