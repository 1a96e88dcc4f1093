import { describe, expect, it } from 'vitest'
import type { CliIo } from './io.ts'
import { colourEnabled, duration, Output } from './output.ts'

function io(over: Partial<CliIo> & { env?: Record<string, string> } = {}): CliIo & { out: string[] } {
  const out: string[] = []
  return {
    out,
    stdout: (t) => void out.push(t),
    stderr: () => {},
    readStdin: async () => '',
    promptHidden: async () => '',
    stdinIsTTY: false,
    stdoutIsTTY: true,
    stderrIsTTY: true,
    env: {},
    cwd: '/',
    onInterrupt: () => () => {},
    ...over,
  }
}

describe('output', () => {
  it('colours only a terminal, and never with NO_COLOR or TERM=dumb', () => {
    expect(colourEnabled(io())).toBe(true)
    expect(colourEnabled(io({ stdoutIsTTY: false }))).toBe(false)
    expect(colourEnabled(io({ env: { NO_COLOR: '1' } }))).toBe(false)
    expect(colourEnabled(io({ env: { TERM: 'dumb' } }))).toBe(false)
    expect(new Output(io()).status('failed')).toBe('\x1b[31mfailed\x1b[0m')
    expect(new Output(io({ stdoutIsTTY: false })).status('failed')).toBe('failed')
  })

  it('aligns table columns by visible width, colour codes included', () => {
    const term = io()
    const o = new Output(term)
    o.table(
      ['ID', 'STATUS', 'NOTE'],
      [
        ['a', o.status('succeeded'), 'x'],
        ['bbbb', o.status('failed'), 'y'],
      ],
    )
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strip the escapes to compare layout
    const plain = term.out.join('').replace(/\x1b\[[0-9;]*m/g, '')
    expect(plain).toBe('ID    STATUS     NOTE\na     succeeded  x\nbbbb  failed     y\n')
  })

  it('formats durations compactly', () => {
    expect(duration(850)).toBe('850ms')
    expect(duration(12_340)).toBe('12.3s')
    expect(duration(245_000)).toBe('4m05s')
    expect(duration(7_380_000)).toBe('2h03m')
  })
})
