// JSON lines on stdout (one object per line, for journald, Docker and log shippers); on a
// TTY a small human format instead. A tiny formatter rather than pino-pretty: pino-pretty
// pulls a dozen packages (and a worker thread) into every agent install for a feature only
// interactive runs use.
import { type Logger, pino } from 'pino'
import type { LogLevel } from './config.ts'

export type { Logger }

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}

export function createLogger(
  level: LogLevel,
  opts: { pretty?: boolean; destination?: NodeJS.WritableStream } = {},
): Logger {
  const out = opts.destination ?? process.stdout
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && out === process.stdout)
  const base = { base: { pid: process.pid }, level, timestamp: pino.stdTimeFunctions.isoTime }
  if (!pretty) return pino(base, pino.destination({ dest: 1, sync: true }))
  return pino(base, {
    write(line: string) {
      out.write(prettyLine(line))
    },
  })
}

/** `10:04:05 INFO  message key=value …` from one pino JSON line. */
export function prettyLine(line: string): string {
  let o: Record<string, unknown>
  try {
    o = JSON.parse(line) as Record<string, unknown>
  } catch {
    return line
  }
  const { level, time, msg, pid: _pid, ...rest } = o
  const t = typeof time === 'string' ? time.slice(11, 19) : ''
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ')
  return `${t} ${(LEVEL_NAMES[level as number] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${fields ? `  ${fields}` : ''}\n`
}
