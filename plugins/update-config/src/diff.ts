// A unified diff of two texts, by lines, computed inside the sandbox (no `diff` process):
// the common head and tail are trimmed, the changed middle is aligned by longest common
// subsequence when it is small enough, else replaced as a whole (still a correct diff, only
// a longer one). Hunks carry 3 lines of context, as `diff -u` does.

/** Lines of context around each change. */
const CONTEXT = 3
/** LCS table cells (old × new changed lines): about 1000 × 1000, well within the sandbox's CPU limit. */
const MAX_LCS_CELLS = 1_000_000

type Op = { kind: ' ' | '-' | '+'; line: string }

/** Splits into lines; a final line without "\n" is marked so the diff can say so. */
function lines(text: string): { lines: string[]; noFinalNewline: boolean } {
  if (text === '') return { lines: [], noFinalNewline: false }
  const parts = text.split('\n')
  const noFinalNewline = parts[parts.length - 1] !== ''
  if (!noFinalNewline) parts.pop()
  return { lines: parts, noFinalNewline }
}

/** The edit script turning `a` into `b`. */
function edits(a: string[], b: string[]): Op[] {
  let head = 0
  while (head < a.length && head < b.length && a[head] === b[head]) head++
  let tail = 0
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++
  const midA = a.slice(head, a.length - tail)
  const midB = b.slice(head, b.length - tail)
  const ops: Op[] = a.slice(0, head).map((line) => ({ kind: ' ', line }))
  if ((midA.length + 1) * (midB.length + 1) <= MAX_LCS_CELLS) ops.push(...lcsEdits(midA, midB))
  else
    ops.push(
      ...midA.map((line) => ({ kind: '-' as const, line })),
      ...midB.map((line) => ({ kind: '+' as const, line })),
    )
  ops.push(...a.slice(a.length - tail).map((line) => ({ kind: ' ' as const, line })))
  return ops
}

function lcsEdits(a: string[], b: string[]): Op[] {
  const n = a.length
  const m = b.length
  const width = m + 1
  // table[i][j] = LCS length of a[i..] and b[j..]
  const table = new Uint32Array((n + 1) * width)
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * width + j] =
        a[i] === b[j]
          ? table[(i + 1) * width + j + 1]! + 1
          : Math.max(table[(i + 1) * width + j]!, table[i * width + j + 1]!)
    }
  }
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++]! })
      j++
    } else if (j < m && (i === n || table[i * width + j + 1]! >= table[(i + 1) * width + j]!)) {
      ops.push({ kind: '+', line: b[j++]! })
    } else {
      ops.push({ kind: '-', line: a[i++]! })
    }
  }
  // Within a run of changes, removals first, as diff -u prints them.
  return reorder(ops)
}

function reorder(ops: Op[]): Op[] {
  const out: Op[] = []
  let minus: Op[] = []
  let plus: Op[] = []
  const flush = () => {
    out.push(...minus, ...plus)
    minus = []
    plus = []
  }
  for (const op of ops) {
    if (op.kind === '-') minus.push(op)
    else if (op.kind === '+') plus.push(op)
    else {
      flush()
      out.push(op)
    }
  }
  flush()
  return out
}

/** `diff -u`-style text from `before` to `after`; empty when they are equal. */
export function unifiedDiff(before: string, after: string, labelBefore: string, labelAfter: string): string {
  if (before === after) return ''
  const a = lines(before)
  const b = lines(after)
  const ops = edits(a.lines, b.lines)
  // A last line whose newline changed differs even when its text is the same.
  if (a.noFinalNewline !== b.noFinalNewline && a.lines.length > 0 && b.lines.length > 0) {
    const last = ops[ops.length - 1]
    if (last?.kind === ' ')
      ops.splice(ops.length - 1, 1, { kind: '-', line: last.line }, { kind: '+', line: last.line })
  }
  const out = [`--- ${labelBefore}`, `+++ ${labelAfter}`]
  // Positions (1-based line numbers) of each op in a and b.
  let oldLine = 1
  let newLine = 1
  const positioned = ops.map((op) => {
    const at = { ...op, oldLine, newLine }
    if (op.kind !== '+') oldLine++
    if (op.kind !== '-') newLine++
    return at
  })
  let k = 0
  while (k < positioned.length) {
    while (k < positioned.length && positioned[k]!.kind === ' ') k++
    if (k >= positioned.length) break
    const start = Math.max(0, k - CONTEXT)
    let end = k
    // Extend while the next change is within 2×CONTEXT unchanged lines.
    for (;;) {
      while (end < positioned.length && positioned[end]!.kind !== ' ') end++
      let gap = end
      while (gap < positioned.length && positioned[gap]!.kind === ' ') gap++
      if (gap < positioned.length && gap - end <= 2 * CONTEXT) end = gap
      else {
        end = Math.min(positioned.length, end + CONTEXT)
        break
      }
    }
    const hunk = positioned.slice(start, end)
    const oldCount = hunk.filter((o) => o.kind !== '+').length
    const newCount = hunk.filter((o) => o.kind !== '-').length
    const oldStart = oldCount === 0 ? hunk[0]!.oldLine - 1 : hunk.find((o) => o.kind !== '+')!.oldLine
    const newStart = newCount === 0 ? hunk[0]!.newLine - 1 : hunk.find((o) => o.kind !== '-')!.newLine
    out.push(`@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`)
    for (const op of hunk) {
      out.push(`${op.kind}${op.line}`)
      const lastOld = op.kind !== '+' && op.oldLine === a.lines.length && a.noFinalNewline
      const lastNew = op.kind !== '-' && op.newLine === b.lines.length && b.noFinalNewline
      if (
        (op.kind === '-' && lastOld) ||
        (op.kind === '+' && lastNew) ||
        (op.kind === ' ' && (lastOld || lastNew))
      ) {
        out.push('\\ No newline at end of file')
      }
    }
    k = end
  }
  return `${out.join('\n')}\n`
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${start},${count}`
}
