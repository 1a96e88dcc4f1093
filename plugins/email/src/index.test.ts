import { ErrorCodes, PluginError } from '@stavily/sdk'
import { testOutput } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

// The manifest leaves the relay to the operator ("$granted"): this is the test grant.
const granted = { manifest: pkg, grants: { smtp: ['mail', 'reports'], secrets: ['SMTP_PASSWORD'] } }

const report = {
  subject: 'web restarted',
  text: 'run r-1 succeeded: web.service is active',
  html: '<p>run <b>r-1</b> succeeded</p>',
}

describe('email', () => {
  it('sends text and html to the configured recipients through the "mail" relay', async () => {
    const { output, calls } = await testOutput(plugin, {
      ...granted,
      config: {
        to: ['ops@example.com', 'Web Team <web@example.com>'],
        cc: 'lead@example.com',
        from: 'Stavily <stavily@example.com>',
      },
      input: report,
      idempotencyKey: 'run-1:mail',
      smtp: { mail: { messageId: '<m1@relay>', response: '250 2.0.0 Ok: queued as 1' } },
    })
    expect(calls.smtp).toEqual([
      {
        relay: 'mail',
        message: {
          to: ['ops@example.com', 'Web Team <web@example.com>'],
          cc: 'lead@example.com',
          from: 'Stavily <stavily@example.com>',
          subject: 'web restarted',
          text: report.text,
          html: report.html,
          headers: { 'X-Stavily-Idempotency-Key': 'run-1:mail' },
        },
      },
    ])
    expect(output).toEqual({
      relay: 'mail',
      messageId: '<m1@relay>',
      accepted: ['ops@example.com', 'Web Team <web@example.com>', 'lead@example.com'],
      rejected: [],
      response: '250 2.0.0 Ok: queued as 1',
    })
  })

  it("lets the input choose recipients, sender and headers, and the config's relay and subject prefix", async () => {
    const { calls } = await testOutput(plugin, {
      ...granted,
      config: { relay: 'reports', to: 'ops@example.com', subjectPrefix: '[stavily]' },
      input: {
        subject: 'nightly backup',
        html: '<p>ok</p>',
        to: 'dba@example.com',
        cc: ['a@example.com', 'b@example.com'],
        replyTo: 'noreply@example.com',
        headers: { 'X-Stavily-Run': 'r-9' },
      },
      smtp: { reports: {} },
    })
    expect(calls.smtp[0]).toMatchObject({
      relay: 'reports',
      message: {
        to: 'dba@example.com',
        cc: ['a@example.com', 'b@example.com'],
        replyTo: 'noreply@example.com',
        subject: '[stavily] nightly backup',
        html: '<p>ok</p>',
        headers: { 'X-Stavily-Run': 'r-9', 'X-Stavily-Idempotency-Key': expect.any(String) },
      },
    })
    expect(calls.smtp[0]?.message.text).toBeUndefined()
  })

  it('refuses a message without recipients or without a body, naming the field', async () => {
    const call = (input: Record<string, unknown>) =>
      testOutput(plugin, { ...granted, config: {}, input: { subject: 's', ...input }, smtp: { mail: {} } })
    await expect(call({ text: 'x' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: 'input.to: is required when config.to is not set',
    })
    await expect(call({ to: 'ops@example.com' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: 'input.text: give text, html or both (the body of the message)',
    })
    await expect(call({ to: 'ops@example.com', text: 'x', headers: { Subject: 'y' } })).rejects.toMatchObject(
      {
        code: ErrorCodes.INVALID_INPUT,
        message: 'input.headers.Subject: only X- headers may be set; the relay writes the others',
      },
    )
  })

  it('refuses a malformed address, naming the field of the input or config that holds it', async () => {
    await expect(
      testOutput(plugin, {
        ...granted,
        input: { ...report, to: ['ops@example.com', 'not an address'] },
        smtp: { mail: {} },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringMatching(/^input\.to\[1\]: expected an address such as "ops@example\.com"/),
    })
    await expect(
      testOutput(plugin, {
        ...granted,
        config: { to: 'ops@example.com', cc: 'lead at example.com' },
        input: report,
        smtp: { mail: {} },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: expect.stringMatching(/^config\.cc: expected an address/),
    })
  })

  it('warns about refused recipients, and fails for good when every one was refused', async () => {
    const some = await testOutput(plugin, {
      ...granted,
      input: { ...report, to: ['ops@example.com', 'gone@example.com'] },
      smtp: { mail: { accepted: ['ops@example.com'], rejected: ['gone@example.com'] } },
    })
    expect(some.output?.rejected).toEqual(['gone@example.com'])
    expect(some.logs.some((l) => l.level === 'warn' && l.message === 'some recipients were refused')).toBe(
      true,
    )

    await expect(
      testOutput(plugin, {
        ...granted,
        input: { ...report, to: 'gone@example.com' },
        smtp: { mail: { accepted: [], rejected: ['gone@example.com'], response: '550 5.1.1 No such user' } },
      }),
    ).rejects.toMatchObject({
      code: 'EMAIL_REJECTED',
      retryable: false,
      message:
        'email via relay "mail": every recipient was refused (gone@example.com): 550 5.1.1 No such user',
    })
  })

  it("keeps the relay's verdict: deferred is retryable, refused is final", async () => {
    for (const [retryable, code] of [
      [true, 'EMAIL_UNAVAILABLE'],
      [false, 'EMAIL_REJECTED'],
    ] as const) {
      const run = testOutput(plugin, {
        ...granted,
        input: { ...report, to: 'ops@example.com' },
        smtp: {
          mail: () => {
            throw new PluginError(
              'STAVILY_ERR_SANDBOX_CAPABILITY_FAILED',
              `smtp.send via mail: ${retryable ? '421 4.3.2 try later' : '554 5.7.1 relay access denied'}`,
              { retryable, data: { responseCode: retryable ? 421 : 554 } },
            )
          },
        },
      })
      await expect(run).rejects.toMatchObject({
        code,
        retryable,
        message: `email via relay "mail": ${retryable ? '421 4.3.2 try later' : '554 5.7.1 relay access denied'}`,
        data: { responseCode: retryable ? 421 : 554 },
      })
    }
  })

  it('is denied a relay the operator did not grant', async () => {
    await expect(
      testOutput(plugin, {
        manifest: pkg,
        grants: { smtp: ['reports'] },
        input: { ...report, to: 'ops@example.com' },
        smtp: { mail: {} },
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, data: { permission: 'smtp' } })
  })
})
