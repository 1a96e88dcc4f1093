import { stringify } from 'yaml'

// `stavily run get` shows each step's output under the steps table, as YAML: it reads like
// the workflow files and keeps a command's multi-line stdout as lines, not "\n" escapes.
// Clipped so that one large output cannot bury the run: `--json` shows everything.

/** At most this many lines per step's output… */
export const MAX_OUTPUT_LINES = 12
/** …and this many characters per line. */
export const MAX_LINE_CHARS = 160

export interface StepWithOutput {
  stepId: string
  output?: unknown
}

function clipLine(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS - 1)}…` : line
}

/** The lines to print for the steps' outputs (none when no step has an output yet). */
export function stepOutputLines(steps: StepWithOutput[], runId: string): string[] {
  const lines: string[] = []
  let clipped = false
  for (const s of steps) {
    if (s.output === undefined || s.output === null) continue
    const text = stringify(s.output, { lineWidth: 0 }).trimEnd().split('\n')
    if (text.length === 1 && !/^[-?|>]/.test(text[0]!)) {
      lines.push(`  ${s.stepId}: ${clipLine(text[0]!)}`)
      clipped ||= text[0]!.length > MAX_LINE_CHARS
      continue
    }
    lines.push(`  ${s.stepId}:`)
    for (const l of text.slice(0, MAX_OUTPUT_LINES)) lines.push(clipLine(`    ${l}`))
    if (text.length > MAX_OUTPUT_LINES) {
      lines.push(`    … ${text.length - MAX_OUTPUT_LINES} more lines`)
      clipped = true
    }
    clipped ||= text.some((l) => l.length + 4 > MAX_LINE_CHARS)
  }
  if (lines.length === 0) return []
  return [
    'outputs:',
    ...lines,
    ...(clipped ? [`(clipped: stavily run get ${runId} --json shows the outputs in full)`] : []),
  ]
}
