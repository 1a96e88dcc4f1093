// Builds this plugin as the registry does and runs it in the agent's real sandbox, sending
// through the agent's ctx.smtp to a real SMTP server on loopback (the repository's
// test/smtp-peer.ts) that requires STARTTLS and AUTH; the delivered message's headers and
// bodies are checked.
import type { Sandbox } from '@stavily/agent'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SmtpPeer, startSmtpPeer } from '../../../test/smtp-peer.ts'
import { callIds, itBundlesForTheSandbox, loadInSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

const PASSWORD = 'relay-pass-0123'
let peer: SmtpPeer
let sandbox: Sandbox
let name: string

beforeAll(async () => {
  peer = await startSmtpPeer({ user: 'stavily', password: PASSWORD })
  const relay = {
    url: `smtp://stavily@127.0.0.1:${peer.port}`,
    passwordSecret: 'SMTP_PASSWORD',
    from: 'Stavily <stavily@example.com>',
    caFile: peer.caFile,
  }
  const loaded = await loadInSandbox(import.meta.url, pkg, {
    smtp: ['mail'],
    secrets: ['SMTP_PASSWORD'],
    connections: { sql: {}, smtp: { mail: relay } },
  } as never)
  sandbox = loaded.sandbox
  name = loaded.name
}, 60_000)

afterAll(async () => {
  await sandbox?.close()
  await peer?.close()
})

const send = (config: Record<string, unknown>, input: Record<string, unknown>, password = PASSWORD) =>
  sandbox.invoke(name, {
    ...callIds(),
    config,
    input,
    secrets: { SMTP_PASSWORD: password },
  })

describe('email bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'output')

  it('delivers text and HTML over STARTTLS with AUTH, with the headers a mail client shows', async () => {
    const result = await send(
      { to: ['ops@example.com', 'Web Team <web@example.com>'], cc: 'lead@example.com' },
      {
        subject: '✅ web restarted — run r-1',
        text: 'web.service is active again.\nRun r-1 took 3 s.',
        html: '<h1>web restarted</h1><p>Run <a href="http://localhost:8080/runs/r-1">r-1</a> took 3&nbsp;s.</p>',
        headers: { 'X-Stavily-Run': 'r-1' },
      },
    )
    expect(result.output).toMatchObject({
      relay: 'mail',
      accepted: ['ops@example.com', 'web@example.com', 'lead@example.com'],
      rejected: [],
      response: expect.stringMatching(/^250/),
    })
    const got = peer.delivered.at(-1)!
    expect(got).toMatchObject({
      secure: true,
      user: 'stavily',
      envelope: {
        from: 'stavily@example.com',
        to: ['ops@example.com', 'web@example.com', 'lead@example.com'],
      },
    })
    expect(got.headers).toMatchObject({
      from: 'Stavily <stavily@example.com>',
      to: 'ops@example.com, Web Team <web@example.com>',
      cc: 'lead@example.com',
      subject: '✅ web restarted — run r-1',
      'x-stavily-run': 'r-1',
      'x-stavily-idempotency-key': expect.any(String),
      'message-id': (result.output as { messageId: string }).messageId,
    })
    expect(got.headers['content-type']).toMatch(/^multipart\/alternative;/)
    expect(got.text).toBe('web.service is active again.\nRun r-1 took 3 s.'.replace(/\n/g, '\r\n'))
    expect(got.html).toBe(
      '<h1>web restarted</h1><p>Run <a href="http://localhost:8080/runs/r-1">r-1</a> took 3&nbsp;s.</p>',
    )
  })

  it('sends a text-only message from the sender the input names', async () => {
    await send(
      {},
      { to: 'dba@example.com', from: 'Backups <backups@example.com>', subject: 'backup ok', text: 'ok' },
    )
    const got = peer.delivered.at(-1)!
    expect(got.envelope).toEqual({ from: 'backups@example.com', to: ['dba@example.com'] })
    expect(got.headers.from).toBe('Backups <backups@example.com>')
    expect(got.headers['content-type']).toMatch(/^text\/plain/)
    expect(got.text).toBe('ok')
    expect(got.html).toBeUndefined()
  })

  it('reports a refused recipient and delivers to the others; fails for good when none is left', async () => {
    const partial = await send(
      {},
      { to: ['ops@example.com', 'gone@invalid.example'], subject: 's', text: 't' },
    )
    expect(partial.output).toMatchObject({
      accepted: ['ops@example.com'],
      rejected: ['gone@invalid.example'],
    })
    expect(peer.delivered.at(-1)?.envelope.to).toEqual(['ops@example.com'])

    const before = peer.delivered.length
    await expect(send({}, { to: 'gone@invalid.example', subject: 's', text: 't' })).rejects.toMatchObject({
      code: 'EMAIL_REJECTED',
      retryable: false,
      message: expect.stringContaining('email via relay "mail"'),
    })
    expect(peer.delivered.length).toBe(before)
  })

  it('fails for good on wrong relay credentials', async () => {
    await expect(send({}, { to: 'ops@example.com', subject: 's', text: 't' }, 'wrong')).rejects.toMatchObject(
      {
        code: 'EMAIL_REJECTED',
        retryable: false,
        message: expect.stringMatching(/^email via relay "mail": .*535/),
      },
    )
  })
})
