import { describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C } from '../../errors.ts'
import { classifyReportedError } from './classify-error.ts'

const report = (e: unknown) => classifyReportedError(JSON.stringify(e))

describe('classifyReportedError', () => {
  it('keeps a PluginError code, flag and data', () => {
    expect(
      report({ name: 'PluginError', message: 'down', code: 'ACME_DOWN', retryable: true, data: { s: 503 } }),
    ).toEqual({
      code: 'ACME_DOWN',
      message: 'down',
      retryable: true,
      data: { s: 503 },
    })
  })

  it("maps V8's stack and allocator RangeErrors to limit codes", () => {
    expect(report({ name: 'RangeError', message: 'Maximum call stack size exceeded' }).code).toBe(
      C.STACK_OVERFLOW,
    )
    expect(report({ name: 'RangeError', message: 'Array buffer allocation failed' }).code).toBe(
      C.MEMORY_LIMIT,
    )
  })

  it('does not believe host-only codes from a plugin, nor malformed codes', () => {
    for (const code of [C.CRASHED, C.TIMEOUT, C.CPU_LIMIT, C.MEMORY_LIMIT, 'has spaces', 'x'.repeat(101)]) {
      expect(report({ name: 'PluginError', message: 'm', code, retryable: true })).toMatchObject({
        code: C.PLUGIN_FAILED,
        retryable: false,
      })
    }
  })

  it('turns anything else into PLUGIN_FAILED with the name and message', () => {
    expect(report({ name: 'TypeError', message: 'x is not a function' })).toEqual({
      code: C.PLUGIN_FAILED,
      message: 'TypeError: x is not a function',
      retryable: false,
    })
    expect(classifyReportedError('not json').code).toBe(C.PLUGIN_FAILED)
  })
})
