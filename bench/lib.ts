// Shared helpers for benchmarks (see docs/benchmarks.md and shared/BENCHMARKS.md).
// A benchmark is a module `bench/NAME.ts` or `<package>/bench/NAME.ts` whose default
// export is `(ctx: BenchContext) => Promise<BenchReport>`; `bench/run.ts` runs it, prints
// its table and writes `bench/results/NAME.json`.
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

export interface Metric {
  value: number
  unit: string
  /** The issue's target, when it names one. */
  target?: number
  better: 'lower' | 'higher'
  /** What the baseline is ("node:vm call"), measured in the same run. */
  baseline?: string
  baseline_value?: number
}

export interface BenchContext {
  /** BENCH_QUICK=1: same code path, fewer iterations, under 30 s. */
  quick: boolean
  /** Progress lines for long steps. */
  progress(message: string): void
}

export interface BenchReport {
  metrics: Record<string, Metric>
  /** Extra facts worth keeping beside the figures: backend, sizes, counts. */
  info?: Record<string, string | number | boolean>
}

export type Benchmark = (ctx: BenchContext) => Promise<BenchReport>

/** Nearest-rank percentile of unsorted samples (p in 0..100). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** High-resolution time in milliseconds. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/**
 * Runs `fn` `warmup` times unmeasured, then `iterations` times, and returns each run's
 * duration in milliseconds.
 */
export async function sample(
  fn: () => unknown | Promise<unknown>,
  { iterations, warmup = Math.ceil(iterations / 10) }: { iterations: number; warmup?: number },
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn()
  const out: number[] = []
  for (let i = 0; i < iterations; i++) {
    const start = nowMs()
    await fn()
    out.push(nowMs() - start)
  }
  return out
}

/** Resident set size of this process in MiB. */
export function rssMb(): number {
  return process.memoryUsage().rss / (1024 * 1024)
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

export function formatTable(name: string, report: BenchReport): string {
  const rows = Object.entries(report.metrics).map(([key, m]) => {
    const target = m.target === undefined ? '' : `${m.better === 'lower' ? '≤' : '≥'} ${m.target}`
    const met =
      m.target === undefined
        ? ''
        : (m.better === 'lower' ? m.value <= m.target : m.value >= m.target)
          ? 'met'
          : 'MISSED'
    const base = m.baseline === undefined ? '' : `${m.baseline}: ${round(m.baseline_value ?? Number.NaN)}`
    return [key, `${round(m.value)} ${m.unit}`, target, met, base]
  })
  const head = ['metric', 'value', 'target', '', 'baseline (same run)']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  const info = report.info
    ? `\n${Object.entries(report.info)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n')}`
    : ''
  return `\n${name}\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}${info}\n`
}

export function writeResult(name: string, quick: boolean, report: BenchReport): string {
  const dir = fileURLToPath(new URL('./results/', import.meta.url))
  mkdirSync(dir, { recursive: true })
  const file = `${dir}${name}.json`
  const body = {
    name,
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    quick,
    ...report.info,
    metrics: report.metrics,
  }
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`)
  return file
}
