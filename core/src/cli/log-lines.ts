import type { Output } from './output.ts'

// A plugin call's log lines as `stavily run logs`, `plugin run` and `plugin dev` print them:
// one line each, `10:04:05 WARN  message`, with its fields and (across attempts) the
// attempt, a command's stderr marked `exec`; multi-line messages stay indented under it.

export interface LogLine {
  attempt?: number
  level: string
  message: string
  at: string
  source?: string
  fields?: Record<string, unknown>
}

const COLOURS = { error: 'red', warn: 'yellow', debug: 'dim' } as const

export function printLogLines(out: Output, logs: readonly LogLine[], opts: { prefix?: string } = {}): void {
  const attempts = new Set(logs.map((l) => l.attempt))
  for (const l of logs) {
    const clock = l.at.length >= 19 ? l.at.slice(11, 19) : l.at
    const level = l.level.toUpperCase().padEnd(5)
    const painted = l.level in COLOURS ? out.paint(level, COLOURS[l.level as keyof typeof COLOURS]) : level
    const tags = [
      ...(attempts.size > 1 && l.attempt !== undefined ? [`attempt ${l.attempt}`] : []),
      ...(l.source === 'exec' ? ['exec'] : []),
    ]
    const fields = l.fields && Object.keys(l.fields).length > 0 ? `  ${JSON.stringify(l.fields)}` : ''
    const [first, ...rest] = l.message.split('\n')
    const head = `${opts.prefix ?? ''}${clock} ${painted} ${tags.length ? `[${tags.join(', ')}] ` : ''}`
    out.line(`${head}${first ?? ''}${fields}`)
    for (const more of rest) out.line(`${' '.repeat((opts.prefix ?? '').length + 15)}${more}`)
  }
}
