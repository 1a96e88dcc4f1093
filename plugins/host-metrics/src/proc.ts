import { PluginError } from '@stavily/sdk'

// Parsers for the three /proc files the sensor reads (proc(5)). Pure: text in, numbers out;
// a file that does not look like Linux's fails the check with a message naming the file.

/** Cumulative CPU time of all CPUs, in USER_HZ ticks, from the first line of /proc/stat. */
export interface CpuTimes {
  /** All time, busy and idle. */
  total: number
  /** Idle and waiting for I/O (the CPU could have run something). */
  idle: number
  /** How many CPUs (`cpuN` lines). */
  cpus: number
}

export function parseStat(text: string, file: string): CpuTimes {
  const lines = text.split('\n')
  const all = lines.find((line) => line.startsWith('cpu '))
  if (all === undefined) throw unreadable(file, 'no "cpu" line')
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already
  // counted in user and nice, so only the first eight make the total.
  const fields = all.trim().split(/\s+/).slice(1, 9).map(Number)
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n) || n < 0)) {
    throw unreadable(file, `the "cpu" line has no counters: ${JSON.stringify(all.slice(0, 100))}`)
  }
  const total = fields.reduce((sum, n) => sum + n, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  const cpus = lines.filter((line) => /^cpu\d+ /.test(line)).length
  return { total, idle, cpus: Math.max(1, cpus) }
}

/** Percent of CPU time spent busy between two readings, or null when no time passed. */
export function cpuPercent(before: CpuTimes, after: CpuTimes): number | null {
  const total = after.total - before.total
  const idle = after.idle - before.idle
  // Counters only grow; a smaller total means the host rebooted between the two readings.
  if (total <= 0 || idle < 0) return null
  return round(((total - idle) / total) * 100)
}

export interface Memory {
  totalBytes: number
  /** What programs could still allocate without swapping: MemAvailable (Linux ≥ 3.14). */
  availableBytes: number
  usedBytes: number
  percent: number
  swapTotalBytes: number
  swapUsedBytes: number
  /** Null without swap. */
  swapPercent: number | null
}

export function parseMeminfo(text: string, file: string): Memory {
  const kb = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+)(?: kB)?$/.exec(line.trim())
    if (m) kb.set(m[1]!, Number(m[2]))
  }
  const total = kb.get('MemTotal')
  if (total === undefined || total === 0) throw unreadable(file, 'no MemTotal')
  // Before MemAvailable existed, free + buffers + cache was the usual estimate.
  const available =
    kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0)
  const swapTotal = kb.get('SwapTotal') ?? 0
  const swapUsed = Math.max(0, swapTotal - (kb.get('SwapFree') ?? swapTotal))
  const used = Math.max(0, total - available)
  return {
    totalBytes: total * 1024,
    availableBytes: available * 1024,
    usedBytes: used * 1024,
    percent: round((used / total) * 100),
    swapTotalBytes: swapTotal * 1024,
    swapUsedBytes: swapUsed * 1024,
    swapPercent: swapTotal === 0 ? null : round((swapUsed / swapTotal) * 100),
  }
}

export interface Load {
  load1: number
  load5: number
  load15: number
}

export function parseLoadavg(text: string, file: string): Load {
  const [a, b, c] = text.trim().split(/\s+/).map(Number)
  if (![a, b, c].every((n) => n !== undefined && Number.isFinite(n) && n >= 0)) {
    throw unreadable(file, `expected three load averages, got ${JSON.stringify(text.slice(0, 100))}`)
  }
  return { load1: a!, load5: b!, load15: c! }
}

/** Two decimals: enough for a threshold, short in an event. */
export function round(n: number): number {
  return Math.round(n * 100) / 100
}

function unreadable(file: string, why: string): PluginError {
  return new PluginError('HOST_METRICS_UNREADABLE', `${file}: not a Linux proc file as expected (${why})`, {
    data: { file },
  })
}
