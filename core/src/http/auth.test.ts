import { describe, expect, it } from 'vitest'
import { parseBearer } from './auth.ts'

// The one parse of `Authorization` for authentication and rate limits: every spelling of a
// credential gives the same key, and anything but "Bearer <visible ASCII>" gives none (a 401).

describe('parseBearer', () => {
  it('takes the scheme in any case and the credential without the whitespace around it', () => {
    for (const header of [
      'Bearer abc.DEF_1-~',
      'bearer abc.DEF_1-~',
      'BEARER\tabc.DEF_1-~',
      ' \tBearer   abc.DEF_1-~ \t',
    ]) {
      expect(parseBearer(header), JSON.stringify(header)).toBe('abc.DEF_1-~')
    }
  })

  it('gives nothing for another scheme, a missing or split credential, or anything around the header', () => {
    for (const header of [
      'Basic abc',
      'Bearerabc',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'x Bearer abc',
      'Bearer abc x',
      'Bearer abc\n',
      '\nBearer abc',
      'Bearer ab\u007fc',
      'Bearer abé',
      '',
    ]) {
      expect(parseBearer(header), JSON.stringify(header)).toBeUndefined()
    }
    expect(parseBearer(undefined)).toBeUndefined()
    expect(parseBearer(['Bearer abc'])).toBeUndefined()
  })
})
