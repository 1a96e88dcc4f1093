import { describe, expect, it } from 'vitest'
import { colorsFor } from './colors.js'

describe('colorsFor', () => {
  it('styles only on a terminal', () => {
    expect(colorsFor({ isTTY: true }, {}).red('x')).toBe('\u001b[31mx\u001b[39m')
    expect(colorsFor({ isTTY: false }, {}).red('x')).toBe('x')
    expect(colorsFor({}, {}).bold('x')).toBe('x')
  })

  it('honours NO_COLOR and TERM=dumb on a terminal, and FORCE_COLOR anywhere', () => {
    expect(colorsFor({ isTTY: true }, { NO_COLOR: '' }).green('x')).toBe('x')
    expect(colorsFor({ isTTY: true }, { TERM: 'dumb' }).green('x')).toBe('x')
    expect(colorsFor({ isTTY: false }, { FORCE_COLOR: '1' }).green('x')).toBe('\u001b[32mx\u001b[39m')
    expect(colorsFor({ isTTY: false }, { FORCE_COLOR: '0' }).green('x')).toBe('x')
  })
})
