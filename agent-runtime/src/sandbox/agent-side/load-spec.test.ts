import { describe, expect, it } from 'vitest'
import { manifest } from '../../../test/helpers/build-fixture.ts'
import { DEFAULT_LIMITS, MIN_LIMITS } from '../../defaults.ts'
import { SandboxErrorCodes as C } from '../../errors.ts'
import { checkLimits, checkSpec } from './load-spec.ts'

// The load request's checks, before anything reaches the sandbox host: each refusal names
// the field and what was expected; what passes arrives normalised.

const good = (over: Record<string, unknown> = {}) => ({
  manifest: manifest('@acme/spec', { permissions: { net: ['api.example.com'], exec: ['echo'] } }),
  bundle: 'module.exports = {}',
  ...over,
})

const refusal = (spec: unknown) => {
  try {
    checkSpec(spec, DEFAULT_LIMITS)
  } catch (err) {
    const e = err as { code: string; message: string; data?: unknown }
    return { code: e.code, message: e.message, data: e.data }
  }
  throw new Error('accepted')
}

describe('checkSpec', () => {
  it('accepts a minimal spec and fills in empty grants, no private network and the base limits', () => {
    const checked = checkSpec(good(), DEFAULT_LIMITS)
    expect(checked.manifest.name).toBe('@acme/spec')
    expect(checked.bundle).toBe('module.exports = {}')
    expect(checked.grants).toEqual({
      net: [],
      exec: [],
      secrets: [],
      fs: { read: [], write: [] },
      connections: { sql: {}, smtp: {} },
    })
    expect(checked.allowPrivateNetwork).toBe(false)
    expect(checked.limits).toBe(DEFAULT_LIMITS)
  })

  it('carries every grant kind given, and leaves out env, sql and smtp when not given', () => {
    const grants = {
      net: ['api.example.com'],
      exec: ['echo'],
      secrets: ['TOKEN'],
      fs: { read: ['/tmp/r'], write: ['/tmp/w'] },
      env: ['TZ'],
      sql: ['main'],
      smtp: ['mail'],
    }
    const checked = checkSpec(good({ grants, allowPrivateNetwork: true }), DEFAULT_LIMITS)
    expect(checked.grants).toMatchObject(grants)
    expect(checked.allowPrivateNetwork).toBe(true)
    const partial = checkSpec(
      good({ grants: { net: ['api.example.com'], fs: { read: ['/tmp/r'] } } }),
      DEFAULT_LIMITS,
    )
    expect(partial.grants).toEqual({
      net: ['api.example.com'],
      exec: [],
      secrets: [],
      fs: { read: ['/tmp/r'], write: [] },
      connections: { sql: {}, smtp: {} },
    })
    for (const key of ['env', 'sql', 'smtp']) expect(key in partial.grants).toBe(false)
  })

  it('refuses a spec that is not an object', () => {
    for (const spec of [null, 'spec', 3]) {
      expect(refusal(spec)).toMatchObject({
        code: C.INVALID_ARGUMENT,
        message: expect.stringMatching(
          /^spec: expected an object \{ manifest, bundle, grants\?, limits\? \}, got /,
        ),
      })
    }
  })

  it('refuses an invalid manifest with every problem and its path', () => {
    const r = refusal(good({ manifest: { name: 'Bad Name', version: 'x' } }))
    expect(r.code).toBe(C.MANIFEST_INVALID)
    expect(r.message).toMatch(/^invalid plugin manifest: /)
    expect(r.message).toContain('name')
    expect(r.message).toContain('; ')
    expect((r.data as { problems: unknown[] }).problems.length).toBeGreaterThan(1)
  })

  it('refuses a manifest for an SDK API this agent does not implement, saying what to do', () => {
    const r = refusal(good({ manifest: manifest('@acme/old', { sdk: '^99' }) }))
    expect(r.code).toBe(C.SDK_INCOMPATIBLE)
    expect(r.message).toMatch(
      /^plugin @acme\/old@1\.0\.0 requires SDK API "\^99" but this agent implements SDK API /,
    )
    expect(r.message).toContain('rebuild the plugin')
    expect(r.data).toMatchObject({ range: '^99' })
  })

  it('refuses a missing, empty, non-string or oversized bundle', () => {
    for (const bundle of [undefined, '', 42]) {
      expect(refusal(good({ bundle })).message).toMatch(
        /^bundle: expected the plugin bundle as a non-empty string, got /,
      )
    }
    expect(refusal(good({ bundle: 'x'.repeat(16 * 1024 * 1024 + 1) })).message).toBe(
      `bundle: expected at most ${16 * 1024 * 1024} bytes, got "${16 * 1024 * 1024 + 1} bytes"`,
    )
    // At the bound exactly, it passes.
    expect(checkSpec(good({ bundle: 'x'.repeat(16 * 1024 * 1024) }), DEFAULT_LIMITS).bundle).toHaveLength(
      16 * 1024 * 1024,
    )
  })

  it('refuses grants that are not an object, or that do not follow the permission grammar', () => {
    for (const grants of [[], 'all', 7]) {
      expect(refusal(good({ grants })).message).toMatch(
        /^grants: expected an object \{ net, exec, secrets, fs, env \}, got /,
      )
    }
    // null, like leaving grants out, grants nothing.
    expect(checkSpec(good({ grants: null }), DEFAULT_LIMITS).grants.net).toEqual([])
    const bad = refusal(good({ grants: { net: ['exa mple.com'] } }))
    expect(bad).toMatchObject({ code: C.INVALID_ARGUMENT, message: expect.stringMatching(/^grants: /) })
  })

  it('refuses a bad connection definition, naming it', () => {
    const r = refusal(good({ grants: { connections: { sql: { main: 'not an object' } } } }))
    expect(r).toMatchObject({
      code: C.INVALID_ARGUMENT,
      message: expect.stringContaining('grants.connections.sql'),
    })
  })

  it('refuses an allowPrivateNetwork that is not a boolean', () => {
    expect(refusal(good({ allowPrivateNetwork: 'yes' })).message).toBe(
      'allowPrivateNetwork: expected a boolean, got "yes"',
    )
    expect(checkSpec(good({ allowPrivateNetwork: false }), DEFAULT_LIMITS).allowPrivateNetwork).toBe(false)
  })

  it('shows a long refused string cut at 80 characters', () => {
    const long = 'z'.repeat(100)
    expect(refusal(good({ allowPrivateNetwork: long })).message).toBe(
      `allowPrivateNetwork: expected a boolean, got "${'z'.repeat(80)}…"`,
    )
  })
})

describe('checkLimits', () => {
  it('keeps the base without overrides and merges the ones given', () => {
    expect(checkLimits(undefined, DEFAULT_LIMITS, 'limits')).toBe(DEFAULT_LIMITS)
    const merged = checkLimits({ wallMs: 1_000, concurrency: 2 }, DEFAULT_LIMITS, 'limits')
    expect(merged).toEqual({ ...DEFAULT_LIMITS, wallMs: 1_000, concurrency: 2 })
    // The base is not changed.
    expect(DEFAULT_LIMITS.wallMs).not.toBe(1_000)
  })

  it('refuses what is not an object of known limits, each an integer at or above its minimum', () => {
    const msg = (value: unknown) => {
      try {
        checkLimits(value, DEFAULT_LIMITS, 'limits')
      } catch (err) {
        return (err as Error).message
      }
      return 'accepted'
    }
    for (const value of [null, [], 5])
      expect(msg(value)).toMatch(/^limits: expected an object of limits, got /)
    expect(msg({ speed: 1 })).toBe(
      `limits.speed: expected one of ${Object.keys(DEFAULT_LIMITS).join(', ')}, got "speed"`,
    )
    expect(msg({ wallMs: 1.5 })).toBe('limits.wallMs: expected an integer ≥ 1, got number')
    expect(msg({ wallMs: '5' })).toBe('limits.wallMs: expected an integer ≥ 1, got "5"')
    expect(msg({ memoryMb: (MIN_LIMITS.memoryMb ?? 0) - 1 })).toBe(
      `limits.memoryMb: expected an integer ≥ ${MIN_LIMITS.memoryMb}, got number`,
    )
    expect(checkLimits({ memoryMb: MIN_LIMITS.memoryMb }, DEFAULT_LIMITS, 'limits').memoryMb).toBe(
      MIN_LIMITS.memoryMb,
    )
    // A limit without a minimum takes 0.
    const noMin = Object.keys(DEFAULT_LIMITS).find((k) => !(k in MIN_LIMITS))!
    expect(checkLimits({ [noMin]: 0 }, DEFAULT_LIMITS, 'x')[noMin as keyof typeof DEFAULT_LIMITS]).toBe(0)
    expect(msg({ [noMin]: -1 })).toBe(`limits.${noMin}: expected an integer ≥ 0, got number`)
  })
})
