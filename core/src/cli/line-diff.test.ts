import { describe, expect, it } from 'vitest'
import { diffLines, unifiedDiff } from './line-diff.ts'

describe('line diff', () => {
  it('edit scripts rebuild both sides, and are no longer than an LCS says', () => {
    // Deterministic pseudo-random inputs over a small alphabet (many repeats: the hard case).
    let seed = 7
    const rnd = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed / 2 ** 31
    }
    const lines = () => Array.from({ length: Math.floor(rnd() * 12) }, () => 'abc'[Math.floor(rnd() * 3)]!)
    const lcs = (a: string[], b: string[]) => {
      const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
      for (let i = 1; i <= a.length; i++)
        for (let j = 1; j <= b.length; j++)
          t[i]![j] = a[i - 1] === b[j - 1] ? t[i - 1]![j - 1]! + 1 : Math.max(t[i - 1]![j]!, t[i]![j - 1]!)
      return t[a.length]![b.length]!
    }
    for (let n = 0; n < 500; n++) {
      const a = lines()
      const b = lines()
      const e = diffLines(a, b)
      expect(e.filter((x) => x.op !== '+').map((x) => x.line)).toEqual(a)
      expect(e.filter((x) => x.op !== '-').map((x) => x.line)).toEqual(b)
      expect(e.filter((x) => x.op === ' ').length).toBe(lcs(a, b))
    }
  })

  it('prints hunks with three lines of context, split when changes are far apart', () => {
    const a = `${'abcdefghijklm'.split('').join('\n')}\n`
    const b = a.replace('b\n', 'B\n').replace('m\n', 'm\nn\n')
    expect(unifiedDiff({ name: 'old', text: a }, { name: 'new', text: b })).toBe(
      '--- old\n+++ new\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n@@ -11,3 +11,4 @@\n k\n l\n m\n+n\n',
    )
    expect(unifiedDiff({ name: 'a', text: 'x\n' }, { name: 'b', text: 'x\n' })).toBe('')
    expect(unifiedDiff({ name: '/dev/null', text: '' }, { name: 'b', text: 'x\ny\n' })).toBe(
      '--- /dev/null\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n',
    )
  })
})
