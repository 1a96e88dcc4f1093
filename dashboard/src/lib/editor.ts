import type { DocumentIssue } from './api-error.ts'

// The workflow editor's bookkeeping: where a server issue (line, column: 1-based) is in the
// text, and which lines carry issues, so the gutter marks them in place.

/** The character offset of line:column in `text`, clamped to the text. */
export function offsetOf(text: string, line: number, column: number): number {
  let offset = 0
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset)
    if (next < 0) return text.length
    offset = next + 1
  }
  const lineEnd = text.indexOf('\n', offset)
  const end = lineEnd < 0 ? text.length : lineEnd
  return Math.min(end, offset + Math.max(0, column - 1))
}

/** The [start, end) offsets of a 1-based line (without its newline). */
export function lineRange(text: string, line: number): [number, number] {
  const start = offsetOf(text, line, 1)
  const end = text.indexOf('\n', start)
  return [start, end < 0 ? text.length : end]
}

/** Issues grouped by line; issues without a line (the document as a whole) under 0. */
export function issuesByLine(issues: readonly DocumentIssue[]): Map<number, DocumentIssue[]> {
  const out = new Map<number, DocumentIssue[]>()
  for (const i of issues) {
    const line = i.line ?? 0
    const list = out.get(line)
    if (list) list.push(i)
    else out.set(line, [i])
  }
  return out
}

/** `12:5 actions[0].timout: unknown field` — how an issue reads in the list. */
export function describeIssue(i: DocumentIssue): string {
  const where = i.line === undefined ? '' : `${i.line}:${i.column ?? 1} `
  return `${where}${i.path ? `${i.path}: ` : ''}${i.message}`
}

/** The number of lines the gutter needs (a trailing newline starts one more). */
export function lineCount(text: string): number {
  let n = 1
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++
  return n
}
