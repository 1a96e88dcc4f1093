import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import { resolveChecked } from './resolve-address.ts'

// The address a sql connection or smtp relay is opened to: resolved here, checked with
// ctx.fetch's rules, and returned, so the connection goes to the address checked. A name may
// reach public addresses only ("localhost" its loopback); an IP literal the operator wrote
// is what they meant.

const PERMISSION = 'sql connection "main"'

async function rejection(p: Promise<unknown>) {
  try {
    await p
  } catch (err) {
    const e = err as { code: string; message: string; data?: unknown; retryable: boolean }
    return { code: e.code, message: e.message, data: e.data, retryable: e.retryable }
  }
  throw new Error('expected a rejection')
}

describe('resolveChecked', () => {
  it('returns an IP literal as written, without brackets and in lower case', async () => {
    expect(await resolveChecked(PERMISSION, '93.184.216.34', 5432, false)).toBe('93.184.216.34')
    expect(await resolveChecked(PERMISSION, '[2001:DB8::1]', 5432, false)).toBe('2001:db8::1')
  })

  it('lets an IP literal reach a private, loopback or metadata address: the operator named it', async () => {
    expect(await resolveChecked(PERMISSION, '10.1.2.3', 5432, false)).toBe('10.1.2.3')
    expect(await resolveChecked(PERMISSION, '127.0.0.1', 5432, false)).toBe('127.0.0.1')
    expect(await resolveChecked(PERMISSION, '[::1]', 25, false)).toBe('::1')
    expect(await resolveChecked(PERMISSION, '169.254.169.254', 80, false)).toBe('169.254.169.254')
  })

  it('resolves "localhost" (in any case) to its loopback address', async () => {
    expect(await resolveChecked(PERMISSION, 'localhost', 5432, false)).toMatch(/^(127\.\d+\.\d+\.\d+|::1)$/)
    expect(await resolveChecked(PERMISSION, 'LocalHost', 5432, false)).toMatch(/^(127\.\d+\.\d+\.\d+|::1)$/)
  })

  it('refuses another name that resolves to loopback, with or without allowPrivateNetwork', async () => {
    // The machine's own name resolves to loopback here and on CI (as in capabilities-sql).
    const own = hostname().toLowerCase()
    for (const allowPrivateNetwork of [false, true]) {
      const r = await rejection(
        resolveChecked(PERMISSION, hostname().toUpperCase(), 6543, allowPrivateNetwork),
      )
      expect(r).toEqual({
        code: C.PERMISSION_DENIED,
        message: expect.stringMatching(
          new RegExp(
            `^permission denied: sql connection "main" "${own}:6543": ${own} resolves to (127\\.[\\d.]+|::1), a loopback address; only public addresses are allowed for host names \\(grant the IP literal to reach it\\)$`,
          ),
        ),
        data: { permission: PERMISSION, value: `${own}:6543`, reason: 'address' },
        retryable: false,
      })
    }
  })

  it('fails a name that does not resolve as retryable, naming the permission and the name', async () => {
    expect(await rejection(resolveChecked('smtp relay "mail"', 'No-Such-Host.invalid', 25, false))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: expect.stringMatching(
        /^smtp relay "mail": cannot resolve no-such-host\.invalid: getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid$/,
      ),
      data: undefined,
      retryable: true,
    })
  })
})
