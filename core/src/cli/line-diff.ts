// A unified diff of two texts by lines, for `stavily workflow diff`. Myers' O(ND) algorithm:
// workflow documents are small and differ in few lines, so D stays small. Written here
// rather than added as a dependency: ~80 lines, and the CLI's only diff need.

export type Edit = { op: ' ' | '-' | '+'; line: string }

function splitLines(text: string): string[] {
  if (text === '') return []
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

/** The shortest edit script from `a` to `b`. */
export function diffLines(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length
  const m = b.length
  const max = n + m
  const offset = max + 1
  const v = new Int32Array(2 * max + 3)
  const trace: Int32Array[] = []
  let found = false
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice())
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)
          ? v[offset + k + 1]!
          : v[offset + k - 1]! + 1
      let y = x - k
      while (x < n && y < m && a[x] === b[y]) {
        x++
        y++
      }
      v[offset + k] = x
      if (x >= n && y >= m) {
        found = true
        break
      }
    }
  }
  // Walk the trace back from (n, m) to (0, 0).
  const edits: Edit[] = []
  let x = n
  let y = m
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!
    const k = x - y
    const prevK = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!) ? k + 1 : k - 1
    const prevX = vd[offset + prevK]!
    const prevY = prevX - prevK
    while (x > prevX && y > prevY) {
      edits.push({ op: ' ', line: a[--x]! })
      y--
    }
    if (d > 0) {
      if (x === prevX) edits.push({ op: '+', line: b[--y]! })
      else edits.push({ op: '-', line: a[--x]! })
    }
  }
  return edits.reverse()
}

/** `--- from` / `+++ to` and `@@` hunks with `context` lines around each change; '' when equal. */
export function unifiedDiff(
  from: { name: string; text: string },
  to: { name: string; text: string },
  context = 3,
): string {
  const edits = diffLines(splitLines(from.text), splitLines(to.text))
  if (edits.every((e) => e.op === ' ')) return ''
  const out = [`--- ${from.name}`, `+++ ${to.name}`]
  // Line numbers (1-based) of each edit in a and b.
  let ai = 1
  let bi = 1
  const numbered = edits.map((e) => {
    const at = { ...e, a: ai, b: bi }
    if (e.op !== '+') ai++
    if (e.op !== '-') bi++
    return at
  })
  let i = 0
  while (i < numbered.length) {
    if (numbered[i]!.op === ' ') {
      i++
      continue
    }
    // A hunk: back up `context` lines, then run until `2*context` equal lines in a row.
    const start = Math.max(0, i - context)
    let end = i
    let equal = 0
    while (end < numbered.length && equal <= 2 * context) {
      equal = numbered[end]!.op === ' ' ? equal + 1 : 0
      end++
    }
    end -= Math.max(0, equal - context)
    const hunk = numbered.slice(start, end)
    const aLen = hunk.filter((e) => e.op !== '+').length
    const bLen = hunk.filter((e) => e.op !== '-').length
    const aStart = aLen === 0 ? hunk[0]!.a - 1 : hunk[0]!.a
    const bStart = bLen === 0 ? hunk[0]!.b - 1 : hunk[0]!.b
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`)
    for (const e of hunk) out.push(`${e.op}${e.line}`)
    i = end
  }
  return `${out.join('\n')}\n`
}
