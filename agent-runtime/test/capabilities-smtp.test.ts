// ctx.smtp against a real SMTP server on loopback (smtp-server): STARTTLS required and the
// certificate verified, AUTH with the password from a secret, the message as sent; wrong
// credentials, an ungranted relay, a plain-text relay and header injection refused.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

let sandbox: Sandbox
let dir: string
let server: SMTPServer
let plain: SMTPServer
let port = 0
let plainPort = 0
const received: { from: string; to: string[]; data: string; user: string; secure: boolean }[] = []

function listen(s: SMTPServer): Promise<number> {
  return new Promise((resolve) => {
    s.listen(0, '127.0.0.1', () => resolve((s.server.address() as { port: number }).port))
  })
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stavily-smtp-'))
  // A certificate for 127.0.0.1, trusted through the relay's caFile.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  )
  const key = await readFile(join(dir, 'key.pem'))
  const cert = await readFile(join(dir, 'cert.pem'))
  server = new SMTPServer({
    key,
    cert,
    authOptional: false,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, cb) {
      if (auth.username === 'stavily' && auth.password === 's3cret') return cb(null, { user: 'stavily' })
      cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }))
    },
    onData(stream, session, cb) {
      let data = ''
      stream.on('data', (c: Buffer) => {
        data += c.toString('utf8')
      })
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
          user: String(session.user),
          secure: session.secure,
        })
        cb()
      })
    },
    logger: false,
  })
  port = await listen(server)
  // A relay that offers no STARTTLS: the agent must not send credentials or mail in clear.
  plain = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    onData: (s, _x, cb) => s.on('end', () => cb()).resume(),
    logger: false,
  })
  plainPort = await listen(plain)
  sandbox = await createSandbox()
  const connections = {
    sql: {},
    smtp: {
      mail: {
        url: `smtp://stavily@127.0.0.1:${port}`,
        passwordSecret: 'SMTP_PASSWORD',
        from: 'Stavily <stavily@example.com>',
        caFile: join(dir, 'cert.pem'),
      },
      cleartext: { url: `smtp://127.0.0.1:${plainPort}`, from: 'stavily@example.com' },
    },
  }
  await sandbox.load({
    manifest: manifest('mailer', {
      kind: 'action',
      permissions: { smtp: ['$granted'], secrets: ['SMTP_PASSWORD'] },
    }),
    bundle: await buildFixture('data-caps'),
    grants: { smtp: ['mail', 'cleartext'], secrets: ['SMTP_PASSWORD'], connections } as never,
  })
}, 30_000)
afterAll(async () => {
  await sandbox?.close()
  await new Promise<void>((r) => server?.close(() => r()))
  await new Promise<void>((r) => plain?.close(() => r()))
  await rm(dir, { recursive: true, force: true })
})

const send = (relay: string, message: unknown, password = 's3cret') =>
  sandbox.invoke('mailer', {
    ...ids(),
    input: { op: 'send', relay, message },
    secrets: { SMTP_PASSWORD: password },
  })

describe('ctx.smtp.send', () => {
  it('delivers over STARTTLS with AUTH, from the relay default sender', async () => {
    const r = await send('mail', {
      to: ['ops@example.com', 'Oncall <oncall@example.com>'],
      subject: 'web restarted',
      text: 'run r1 succeeded',
      headers: { 'X-Stavily-Run': 'r1' },
    })
    expect(r.output).toMatchObject({ accepted: ['ops@example.com', 'oncall@example.com'], rejected: [] })
    expect((r.output as { response: string }).response).toMatch(/^250/)
    const got = received.at(-1)!
    expect(got).toMatchObject({
      from: 'stavily@example.com',
      to: ['ops@example.com', 'oncall@example.com'],
      user: 'stavily',
      secure: true,
    })
    expect(got.data).toContain('Subject: web restarted')
    expect(got.data).toContain('X-Stavily-Run: r1')
    expect(got.data).toContain('run r1 succeeded')
  })

  it('fails on wrong credentials without retry, naming the relay', async () => {
    await expect(
      send('mail', { to: 'ops@example.com', subject: 's', text: 't' }, 'wrong'),
    ).rejects.toMatchObject({
      code: C.CAPABILITY_FAILED,
      retryable: false,
      message: expect.stringContaining('smtp.send via mail'),
    })
  })

  it('refuses a relay that offers no STARTTLS (mail is never sent in clear by default)', async () => {
    await expect(send('cleartext', { to: 'ops@example.com', subject: 's', text: 't' })).rejects.toMatchObject(
      {
        code: C.CAPABILITY_FAILED,
        message: expect.stringMatching(/STARTTLS/i),
      },
    )
  })

  it('denies an ungranted relay and refuses header injection before connecting', async () => {
    const before = received.length
    await expect(send('other', { to: 'ops@example.com', subject: 's', text: 't' })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'smtp', value: 'other', reason: 'ungranted' },
    })
    await expect(
      send('mail', { to: 'ops@example.com', subject: 'hi\r\nBcc: victim@example.com', text: 't' }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('smtp.send message.subject: expected one line'),
    })
    await expect(
      send('mail', { to: 'ops@example.com\r\nRCPT TO:<x@y.z>', subject: 's', text: 't' }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('smtp.send message.to'),
    })
    expect(received.length).toBe(before)
  })
})
