import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { unifiedDiff } from './diff.ts'

// Compared with GNU diff -u itself, on the hunks (the header lines carry dates).
const dir = mkdtempSync(join(tmpdir(), 'stavily-diff-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function gnuDiff(a: string, b: string): string {
  writeFileSync(join(dir, 'a'), a)
  writeFileSync(join(dir, 'b'), b)
  try {
    execFileSync('diff', ['-u', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' })
    return ''
  } catch (err) {
    return (err as { stdout: string }).stdout.split('\n').slice(2).join('\n')
  }
}

const ours = (a: string, b: string) => unifiedDiff(a, b, 'a', 'b').split('\n').slice(2).join('\n')
const numbered = (n: number, f = (i: number) => `line ${i}`) =>
  Array.from({ length: n }, (_, i) => `${f(i + 1)}\n`).join('')

describe('unifiedDiff', () => {
  const cases: [string, string, string][] = [
    ['one line changed', numbered(20), numbered(20).replace('line 10\n', 'line ten\n')],
    [
      'two changes far apart: two hunks',
      numbered(40),
      numbered(40).replace('line 5\n', 'five\n').replace('line 30\n', 'thirty\n'),
    ],
    [
      'two changes close: one hunk',
      numbered(20),
      numbered(20).replace('line 5\n', 'five\n').replace('line 9\n', 'nine\n'),
    ],
    ['lines inserted at the start', numbered(5), `new 1\nnew 2\n${numbered(5)}`],
    ['lines removed at the end', numbered(10), numbered(6)],
    ['a new file', '', numbered(3)],
    ['all removed', numbered(3), ''],
    ['no final newline added', 'a\nb', 'a\nb\n'],
    ['no final newline, other text', 'a\nb\nc', 'a\nB\nc'],
    [
      'JSON edited',
      '{\n  "workers": 4,\n  "port": 8080\n}\n',
      '{\n  "workers": 8,\n  "port": 8080,\n  "tls": true\n}\n',
    ],
  ]
  it.each(cases)('matches diff -u: %s', (_, a, b) => {
    expect(ours(a, b)).toBe(gnuDiff(a, b))
  })

  it('is empty for equal texts and names the files in its header', () => {
    expect(unifiedDiff('x\n', 'x\n', 'a', 'b')).toBe('')
    expect(unifiedDiff('x\n', 'y\n', '/etc/app.json', '/etc/app.json (new)').split('\n').slice(0, 2)).toEqual(
      ['--- /etc/app.json', '+++ /etc/app.json (new)'],
    )
  })

  it('stays a correct diff when the changed middle is too large to align', () => {
    const a = numbered(1500)
    const b = numbered(1500, (i) => (i % 2 ? `line ${i}` : `changed ${i}`))
    const d = unifiedDiff(a, b, 'a', 'b')
    expect(d.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'))).toHaveLength(1499)
  })
})
