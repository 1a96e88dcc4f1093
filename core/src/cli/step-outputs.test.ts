import { describe, expect, it } from 'vitest'
import { MAX_LINE_CHARS, MAX_OUTPUT_LINES, stepOutputLines } from './step-outputs.ts'

describe('step outputs in stavily run get', () => {
  it('shows each output as YAML under its step, keeping multi-line text as lines', () => {
    const lines = stepOutputLines(
      [
        { stepId: 'check', output: { status: 200, ok: true } },
        { stepId: 'pending' },
        { stepId: 'count', output: 3 },
        { stepId: 'df', output: { code: 0, stdout: 'Filesystem  Use%\n/dev/sda1   42%\n' } },
      ],
      'r1',
    )
    expect(lines).toEqual([
      'outputs:',
      '  check:',
      '    status: 200',
      '    ok: true',
      '  count: 3',
      '  df:',
      '    code: 0',
      '    stdout: |',
      '      Filesystem  Use%',
      '      /dev/sda1   42%',
    ])
  })

  it('prints nothing when no step has an output', () => {
    expect(stepOutputLines([{ stepId: 'a' }, { stepId: 'b', output: null }], 'r1')).toEqual([])
  })

  it('clips long outputs and long lines, and says how to see all of it', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]))
    const lines = stepOutputLines(
      [
        { stepId: 'big', output: many },
        { stepId: 'wide', output: 'x'.repeat(1000) },
      ],
      'r9',
    )
    expect(lines.filter((l) => l.startsWith('    k'))).toHaveLength(MAX_OUTPUT_LINES)
    expect(lines).toContain(`    … ${40 - MAX_OUTPUT_LINES} more lines`)
    const wide = lines.find((l) => l.startsWith('  wide:'))!
    expect(wide.length).toBe(MAX_LINE_CHARS + '  wide: '.length)
    expect(wide.endsWith('…')).toBe(true)
    expect(lines.at(-1)).toBe('(clipped: stavily run get r9 --json shows the outputs in full)')
  })
})
