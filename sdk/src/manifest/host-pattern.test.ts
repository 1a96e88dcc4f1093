import { describe, expect, it } from 'vitest'
import { matchHostPattern, parseHostPattern } from './index.ts'

describe('matchHostPattern', () => {
  const cases: [string, string, number, boolean][] = [
    ['api.example.com', 'api.example.com', 443, true],
    ['api.example.com', 'api.example.com', 8080, true], // no port: any port
    ['api.example.com', 'API.example.com.', 443, true],
    ['api.example.com', 'x.api.example.com', 443, false],
    ['api.example.com:443', 'api.example.com', 80, false],
    ['*.example.com', 'a.example.com', 443, true],
    ['*.example.com', 'a.b.example.com', 443, true],
    ['*.example.com', 'example.com', 443, false],
    ['*.example.com', 'badexample.com', 443, false],
    ['*.example.com:8443', 'a.example.com', 443, false],
    ['10.0.0.1', '10.0.0.1', 22, true],
    ['10.0.0.1:80', '10.0.0.10', 80, false],
    ['[::1]:8080', '[::1]', 8080, true],
    ['[::1]:8080', '::1', 8080, true],
    ['[::1]:8080', '[0:0::1]', 8080, true],
    ['[::1]', '[::2]', 80, false],
    ['http://x', 'x', 80, false], // an invalid pattern matches nothing
  ]
  for (const [pattern, host, port, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${host}:${port}`, () => {
      expect(matchHostPattern(pattern, host, port)).toBe(expected)
    })
  }

  it('accepts a parsed pattern', () => {
    const parsed = parseHostPattern('*.example.com:443')
    expect(parsed).toEqual({
      ok: true,
      pattern: { host: 'example.com', wildcard: true, port: 443 },
      normalized: '*.example.com:443',
    })
    if (parsed.ok) expect(matchHostPattern(parsed.pattern, 'a.example.com', 443)).toBe(true)
  })
})
