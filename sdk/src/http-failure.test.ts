import { describe, expect, it } from 'vitest'
import { ErrorCodes, PluginError } from './errors.ts'
import { bodyExcerpt, isConfigurationError, isRetryableStatus } from './http-failure.ts'

describe('isRetryableStatus', () => {
  it('retries 5xx, 408 and 429, and nothing else', () => {
    for (const status of [500, 502, 503, 504, 599, 408, 429])
      expect(isRetryableStatus(status), String(status)).toBe(true)
    for (const status of [400, 401, 403, 404, 409, 410, 413, 422, 499, 200, 302])
      expect(isRetryableStatus(status), String(status)).toBe(false)
  })
})

describe('bodyExcerpt', () => {
  it('trims the body and cuts it to max characters, marking the cut', () => {
    expect(bodyExcerpt('  no such channel \n')).toBe('no such channel')
    expect(bodyExcerpt('')).toBe('')
    expect(bodyExcerpt('   ')).toBe('')
    expect(bodyExcerpt('x'.repeat(300))).toBe('x'.repeat(300))
    expect(bodyExcerpt('x'.repeat(301))).toBe(`${'x'.repeat(300)}…`)
    expect(bodyExcerpt('abcdef', 3)).toBe('abc…')
  })
})

describe('isConfigurationError', () => {
  it('is true for a fetch the sandbox refused (permission, malformed argument), false for anything else', () => {
    expect(
      isConfigurationError(new PluginError(ErrorCodes.PERMISSION_DENIED, 'net: example.com not granted')),
    ).toBe(true)
    expect(isConfigurationError(new PluginError(ErrorCodes.INVALID_ARGUMENT, 'url: not absolute'))).toBe(true)
    expect(isConfigurationError(new PluginError('STAVILY_ERR_SANDBOX_FETCH_TIMEOUT', 'timed out'))).toBe(
      false,
    )
    expect(isConfigurationError(new Error('ECONNREFUSED'))).toBe(false)
    // Codes compared, never instanceof: an error from another realm (the sandbox's) counts too.
    const foreign = {
      name: 'PluginError',
      code: ErrorCodes.PERMISSION_DENIED,
      message: 'x',
      retryable: false,
    }
    expect(isConfigurationError(foreign)).toBe(true)
  })
})
