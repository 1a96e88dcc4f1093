import { fingerprint } from '@stavily/sdk'

// Where a tail stands in a file, and how new lines are found. Pure: the file's text comes
// in, the lines and the next position go out.
//
// ctx.fs reads whole files as text and tells no inode, so a file is recognised by its
// beginning, as Filebeat's fingerprint mode does: the fingerprint of its first characters
// (up to HEAD_CHARS, never past what was read). The file at `path` is "the same file" while
// it is at least as long as the position and starts with the same characters; otherwise it
// was rotated (renamed away and recreated: different beginning) or truncated (copytruncate:
// shorter), and the tail reads the rest of the old file from the rotated path, then the new
// file from its start.

/** How many leading characters identify a file. */
export const HEAD_CHARS = 1024

/** What the sensor keeps per tail in ctx.state. */
export interface TailState {
  /** The path this position is for (a changed config.path starts afresh). */
  path: string
  /** Characters of the file already read; always just after a newline (or 0). */
  offset: number
  /** Lines before `offset`, to number the next ones. */
  lineNumber: number
  /** The fingerprint of the file's first `headLength` characters. */
  head: string
  headLength: number
}

export interface Line {
  text: string
  /** 1-based, in the file it was read from. */
  number: number
  /** Character offset of the line's start in that file. */
  start: number
}

/** The position at the start of a file not read yet (anything counts as the same file). */
export function startOf(path: string): TailState {
  return { path, offset: 0, lineNumber: 0, head: fingerprint(''), headLength: 0 }
}

/** The position after every complete line of `text` (a tail that starts at the end). */
export function endOf(path: string, text: string): TailState {
  const offset = text.lastIndexOf('\n') + 1
  let lineNumber = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) lineNumber++
  return advance({ ...startOf(path), offset, lineNumber }, text)
}

/** Whether `text` is the file `state` points into. */
export function isSameFile(state: TailState, text: string): boolean {
  return text.length >= state.offset && fingerprint(text.slice(0, state.headLength)) === state.head
}

/**
 * The complete lines of `text` after `state.offset`, at most `limit` of them accepted by
 * `take` (lines it refuses are passed over and do not count), and the position after the
 * last line looked at. With `final`, a last line without its newline counts too (a rotated
 * file is not written to any more).
 */
export function readLines(
  state: TailState,
  text: string,
  take: (line: Line) => boolean,
  limit: number,
  final = false,
): { lines: Line[]; next: TailState } {
  const lines: Line[] = []
  let offset = state.offset
  let lineNumber = state.lineNumber
  while (lines.length < limit && offset < text.length) {
    const newline = text.indexOf('\n', offset)
    if (newline === -1 && !final) break
    const end = newline === -1 ? text.length : newline
    let lineText = text.slice(offset, end)
    if (lineText.endsWith('\r')) lineText = lineText.slice(0, -1)
    lineNumber++
    const line = { text: lineText, number: lineNumber, start: offset }
    offset = newline === -1 ? text.length : newline + 1
    if (take(line)) lines.push(line)
  }
  return { lines, next: advance({ ...state, offset, lineNumber }, text) }
}

/** Grows the identifying head with what was read, up to HEAD_CHARS. */
function advance(state: TailState, text: string): TailState {
  const headLength = Math.min(HEAD_CHARS, state.offset)
  if (headLength === state.headLength) return state
  return { ...state, headLength, head: fingerprint(text.slice(0, headLength)) }
}

/** A stored value, if it is one this plugin wrote for `path`; anything else is unknown. */
export function readTailState(value: unknown, path: string): TailState | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const v = value as Record<string, unknown>
  const count = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0
  if (
    v.path !== path ||
    !count(v.offset) ||
    !count(v.lineNumber) ||
    !count(v.headLength) ||
    typeof v.head !== 'string'
  ) {
    return undefined
  }
  return {
    path,
    offset: v.offset as number,
    lineNumber: v.lineNumber as number,
    head: v.head,
    headLength: v.headLength as number,
  }
}
