import type { CliIo } from './io.ts'

// Human output: aligned tables, a little colour on a terminal only (never when piped, nor
// with NO_COLOR set, nor on TERM=dumb), timestamps and durations in one short format.

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, dim: 2, bold: 1 } as const
export type Colour = keyof typeof CODES

export function colourEnabled(io: CliIo, stream: 'stdout' | 'stderr' = 'stdout'): boolean {
  const tty = stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false
  if (io.env.TERM === 'dumb') return false
  return tty
}

// Escape sequences have no width on screen: strip them to measure.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\x1b\[[0-9;]*m/g
const width = (s: string) => s.replace(ANSI, '').length

export class Output {
  readonly colour: boolean
  readonly errColour: boolean
  constructor(private readonly io: CliIo) {
    this.colour = colourEnabled(io, 'stdout')
    this.errColour = colourEnabled(io, 'stderr')
  }

  paint(text: string, colour: Colour, stream: 'stdout' | 'stderr' = 'stdout'): string {
    const on = stream === 'stdout' ? this.colour : this.errColour
    return on ? `\x1b[${CODES[colour]}m${text}\x1b[0m` : text
  }

  line(text = ''): void {
    this.io.stdout(`${text}\n`)
  }

  /** Progress and notes go to stderr, so stdout stays the answer (`$(stavily agent token …)`). */
  note(text: string): void {
    this.io.stderr(`${text}\n`)
  }

  warn(text: string): void {
    this.io.stderr(`${this.paint('warning:', 'yellow', 'stderr')} ${text}\n`)
  }

  json(value: unknown): void {
    this.io.stdout(`${JSON.stringify(value, null, 2)}\n`)
  }

  /** A status word coloured by what it means. */
  status(s: string): string {
    if (s === 'succeeded' || s === 'online' || s === 'active' || s === 'run') return this.paint(s, 'green')
    if (/fail|timed_out|error|revoked|lost|broken/.test(s)) return this.paint(s, 'red')
    if (s === 'running' || s === 'queued' || s === 'draining' || s === 'unknown')
      return this.paint(s, 'yellow')
    if (s === 'cancelled' || s === 'skipped' || s === 'skip') return this.paint(s, 'dim')
    return s
  }

  table(headers: string[], rows: string[][]): void {
    if (rows.length === 0) return
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => width(r[i] ?? ''))))
    const fmt = (cells: string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c))))
        .join('  ')
        .trimEnd()
    this.line(this.paint(fmt(headers), 'bold'))
    for (const r of rows) this.line(fmt(r))
  }
}

/** `2026-11-28 10:12:03` (UTC) or `-`. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '-'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toISOString().replace('T', ' ').slice(0, 19)
}

/** `850ms`, `12.3s`, `4m05s`, `2h03m`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-'
  if (ms < 1_000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`
  const s = Math.floor(ms / 1_000)
  if (s < 3_600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3_600)}h${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`
}

export function between(start: string | null | undefined, end: string | null | undefined): string {
  if (!start) return '-'
  const a = Date.parse(start)
  const b = end ? Date.parse(end) : Date.now()
  return duration(b - a)
}

/** Compact JSON for a table cell or a one-line summary, cut at `max` characters. */
export function brief(value: unknown, max = 60): string {
  if (value === undefined || value === null) return '-'
  const s = typeof value === 'string' ? value : JSON.stringify(value)
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}
