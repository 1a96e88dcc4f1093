import { execFileSync } from 'node:child_process'
import { getEventListeners } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SmtpPeer, startSmtpPeer } from '../../../../../test/smtp-peer.ts'
import { tempDir } from '../../../../../test/temp-dir.ts'
import { TestPki } from '../../../../../test/tls-certs.ts'
import { failed, hostGrants, hostPlugin, rejection } from '../../../../test/helpers/host-plugin.ts'
import type { PluginLimits } from '../../../defaults.ts'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import type { PluginInstance } from '../plugin-instance.ts'
import { hostSmtpSend, type SmtpOptions } from './smtp.ts'

// ctx.smtp on the host against real SMTP servers on loopback: a relay that requires STARTTLS
// and AUTH (test/smtp-peer.ts), one without TLS, one with TLS from the start, and one that
// never answers. The relay a plugin names is checked (granted, defined, its address), the
// password comes from a secret or a file plugin code never sees, TLS is required unless the
// operator said none, and failures say whether a retry may pass.

const USER = 'stavily'
const PASSWORD = 's3cret'
const folder = tempDir('smtp-unit')
let peer: SmtpPeer
let plain: SMTPServer
let secure: SMTPServer
let offering: SMTPServer
let offeringPort = 0
const offeringReceived: { secure: boolean }[] = []
let hang: Server
const hung = new Set<Socket>()
let plainPort = 0
let securePort = 0
let hangPort = 0
let closedPort = 0
const plainReceived: { from: string; to: string[]; raw: string; secure: boolean }[] = []
let plugin: PluginInstance

function listen(s: SMTPServer): Promise<number> {
  return new Promise((resolve) => {
    s.listen(0, '127.0.0.1', () => resolve((s.server.address() as { port: number }).port))
  })
}

beforeAll(async () => {
  peer = await startSmtpPeer({ user: USER, password: PASSWORD })
  // A relay on this host without TLS; recipients at later.example are deferred (451).
  plain = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onRcptTo(address, _session, cb) {
      if (address.address.endsWith('@later.example'))
        return cb(Object.assign(new Error('4.3.2 try again later'), { responseCode: 451 }))
      if (address.address.endsWith('@broken.example'))
        return cb(Object.assign(new Error('5.0.0 broken'), { responseCode: 500 }))
      cb()
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        plainReceived.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
        })
        cb()
      })
    },
  })
  plainPort = await listen(plain)
  // TLS from the start (smtps://), with a certificate from a CA of the test's own.
  const pki = new TestPki()
  const ca = pki.ca('smtp-ca')
  const cert = pki.issue(ca, 'smtp-server', 'server')
  secure = new SMTPServer({
    secure: true,
    key: readFileSync(cert.key),
    cert: readFileSync(cert.cert),
    authOptional: true,
    logger: false,
    onData: (s, _session, cb) => s.on('end', () => cb()).resume(),
  })
  // A client that gives up on the handshake (the STARTTLS case below) is no server error.
  secure.on('error', () => {})
  securePort = await listen(secure)
  // Offers STARTTLS without requiring it, with a certificate that names localhost only (no IP).
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
      .concat(['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'])
      .concat(['-keyout', join(folder, 'named.key'), '-out', join(folder, 'named.pem')]),
    { stdio: 'ignore' },
  )
  offering = new SMTPServer({
    key: readFileSync(join(folder, 'named.key')),
    cert: readFileSync(join(folder, 'named.pem')),
    authOptional: true,
    logger: false,
    onData(stream, session, cb) {
      stream.on('end', () => {
        offeringReceived.push({ secure: session.secure })
        cb()
      })
      stream.resume()
    },
  })
  offering.on('error', () => {})
  offeringPort = await listen(offering)
  // Accepts and never greets.
  hang = createServer((socket) => {
    hung.add(socket)
    socket.on('close', () => hung.delete(socket))
  })
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve))
  hangPort = (hang.address() as { port: number }).port
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  closedPort = (probe.address() as { port: number }).port
  await new Promise((resolve) => probe.close(resolve))
  writeFileSync(join(folder, 'password'), `${PASSWORD}\n`)

  const at = (port: number, user = USER) => `smtp://${user ? `${user}@` : ''}127.0.0.1:${port}`
  const relays = {
    mail: {
      url: at(peer.port),
      passwordSecret: 'SMTP_PASSWORD',
      from: 'Stavily <stavily@example.com>',
      caFile: peer.caFile,
    },
    // Checked against the name, not the address connected to: the certificate names localhost.
    byname: {
      url: `smtp://${USER}@localhost:${peer.port}`,
      passwordFile: join(folder, 'password'),
      caFile: peer.caFile,
    },
    anonymous: { url: at(peer.port, ''), caFile: peer.caFile, from: 'a@example.com' },
    untrusted: { url: at(peer.port), passwordSecret: 'SMTP_PASSWORD', from: 'a@example.com' },
    nofile: { url: at(peer.port), passwordFile: join(folder, 'missing'), caFile: peer.caFile },
    nocafile: { url: at(peer.port, ''), caFile: join(folder, 'missing-ca.pem'), from: 'a@example.com' },
    cleartext: { url: at(plainPort, ''), from: 'a@example.com' },
    local: { url: at(plainPort, ''), tls: 'none', from: 'Local <local@example.com>' },
    nofrom: { url: at(plainPort, ''), tls: 'none' },
    smtps: { url: `smtps://127.0.0.1:${securePort}`, caFile: ca.cert, from: 'a@example.com' },
    tls: { url: `smtp://127.0.0.1:${securePort}`, tls: 'tls', caFile: ca.cert, from: 'a@example.com' },
    'starttls-on-tls': { url: `smtp://127.0.0.1:${securePort}`, caFile: ca.cert, from: 'a@example.com' },
    hang: { url: at(hangPort, ''), tls: 'none', from: 'a@example.com' },
    down: { url: at(closedPort, ''), tls: 'none', from: 'a@example.com' },
    elsewhere: { url: `smtp://${hostname()}:${plainPort}`, from: 'a@example.com' },
    // Without a port: 587, or 465 for TLS from the start (seen in the address refusal).
    'elsewhere-587': { url: `smtp://${hostname()}`, from: 'a@example.com' },
    'elsewhere-465': { url: `smtps://${hostname()}`, from: 'a@example.com' },
    'elsewhere-tls': { url: `smtp://${hostname()}`, tls: 'tls', from: 'a@example.com' },
    named: {
      url: `smtp://localhost:${offeringPort}`,
      caFile: join(folder, 'named.pem'),
      from: 'a@example.com',
    },
    'named-ip': {
      url: `smtp://127.0.0.1:${offeringPort}`,
      caFile: join(folder, 'named.pem'),
      from: 'a@example.com',
    },
    'named-clear': { url: `smtp://localhost:${offeringPort}`, tls: 'none', from: 'a@example.com' },
    nopass: { url: at(peer.port), caFile: peer.caFile, from: 'a@example.com' },
  }
  plugin = hostPlugin({
    name: '@acme/mailer',
    permissions: { smtp: ['$granted'], secrets: ['SMTP_PASSWORD'] },
    grants: {
      smtp: [...Object.keys(relays), 'ghost'],
      secrets: ['SMTP_PASSWORD'],
      connections: { smtp: relays },
    },
  })
}, 30_000)
afterAll(async () => {
  for (const s of hung) s.destroy()
  await Promise.all([
    peer?.close(),
    new Promise<void>((r) => (plain ? plain.close(() => r()) : r())),
    new Promise<void>((r) => (secure ? secure.close(() => r()) : r())),
    new Promise<void>((r) => (offering ? offering.close(() => r()) : r())),
    new Promise((r) => (hang ? hang.close(r) : r(undefined))),
  ])
})

interface Over {
  limits?: Partial<PluginLimits>
  secrets?: Record<string, string>
  deadline?: number
  signal?: AbortSignal
}

/** The options the dispatch gives ctx.smtp (dispatch.ts). */
function options(over: Over = {}): SmtpOptions {
  const { guard, connections } = hostGrants(plugin)
  return {
    guard,
    limits: { ...plugin.spec.limits, ...over.limits },
    relays: connections.smtp,
    secrets: over.secrets ?? { SMTP_PASSWORD: PASSWORD },
    allowPrivateNetwork: plugin.spec.allowPrivateNetwork,
    deadline: over.deadline ?? Date.now() + 60_000,
    signal: over.signal ?? new AbortController().signal,
  }
}

const MESSAGE = { to: 'ops@example.com', subject: 'web restarted', text: 'run r1 succeeded' }
const send = (relay: unknown, message: unknown = MESSAGE, over: Over = {}) =>
  hostSmtpSend(relay, message, options(over))

describe('hostSmtpSend: delivery', () => {
  it('delivers over STARTTLS with AUTH, from the relay’s sender, and says what the relay answered', async () => {
    const before = peer.delivered.length
    const r = await send('mail', {
      to: ['ops@example.com', 'Oncall <oncall@example.com>'],
      cc: 'lead@example.com',
      bcc: ['audit@example.com'],
      replyTo: 'desk@example.com',
      subject: 'web restarted',
      text: 'run r1 succeeded',
      html: '<p>run r1 succeeded</p>',
      headers: { 'X-Stavily-Run': 'r1' },
    })
    expect(r).toEqual({
      messageId: expect.stringMatching(/^<.+@example\.com>$/),
      accepted: ['ops@example.com', 'oncall@example.com', 'lead@example.com', 'audit@example.com'],
      rejected: [],
      response: expect.stringMatching(/^250 /),
    })
    expect(peer.delivered).toHaveLength(before + 1)
    const got = peer.delivered.at(-1)!
    expect(got).toMatchObject({
      envelope: {
        from: 'stavily@example.com',
        to: ['ops@example.com', 'oncall@example.com', 'lead@example.com', 'audit@example.com'],
      },
      secure: true,
      user: USER,
      text: 'run r1 succeeded',
      html: '<p>run r1 succeeded</p>',
    })
    expect(got.headers).toMatchObject({
      from: 'Stavily <stavily@example.com>',
      to: 'ops@example.com, Oncall <oncall@example.com>',
      cc: 'lead@example.com',
      'reply-to': 'desk@example.com',
      subject: 'web restarted',
      'x-stavily-run': 'r1',
      'message-id': r.messageId,
    })
    expect(got.headers.bcc).toBeUndefined()
  })

  it('sends a text-only message with only the fields given, from the message’s own sender', async () => {
    await send('mail', { ...MESSAGE, from: 'Builds <builds@example.com>' })
    const got = peer.delivered.at(-1)!
    expect(got.envelope).toEqual({ from: 'builds@example.com', to: ['ops@example.com'] })
    expect(got.headers.from).toBe('Builds <builds@example.com>')
    expect(got.text).toBe('run r1 succeeded')
    expect(got.html).toBeUndefined()
    for (const h of ['cc', 'reply-to']) expect(got.headers[h]).toBeUndefined()
    await send('mail', { to: 'ops@example.com', subject: 'html only', html: '<b>x</b>' })
    expect(peer.delivered.at(-1)).toMatchObject({ html: '<b>x</b>', text: undefined })
  })

  it('checks the certificate against the relay’s name, with a password from a file', async () => {
    const r = await send('byname', { ...MESSAGE, from: 'a@example.com' })
    expect(r.accepted).toEqual(['ops@example.com'])
    expect(peer.delivered.at(-1)).toMatchObject({ secure: true, user: USER })
  })

  it('reports recipients the relay refused while it accepted others', async () => {
    const r = await send('mail', { ...MESSAGE, to: ['ops@example.com', 'nobody@invalid.example'] })
    expect({ accepted: r.accepted, rejected: r.rejected }).toEqual({
      accepted: ['ops@example.com'],
      rejected: ['nobody@invalid.example'],
    })
  })

  it('sends in clear only to a relay the operator marked tls: none', async () => {
    const before = plainReceived.length
    await send('local')
    expect(plainReceived).toHaveLength(before + 1)
    expect(plainReceived.at(-1)).toMatchObject({
      from: 'local@example.com',
      to: ['ops@example.com'],
      secure: false,
    })
    expect(await rejection(send('cleartext'))).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringMatching(/^smtp\.send via cleartext: .*STARTTLS/i),
    })
    expect(plainReceived).toHaveLength(before + 1)
  })

  it('checks the certificate against the name in the URL; an IP literal is checked as the IP', async () => {
    const before = offeringReceived.length
    expect((await send('named')).accepted).toEqual(['ops@example.com'])
    expect(offeringReceived.slice(before)).toEqual([{ secure: true }])
    expect(await rejection(send('named-ip'))).toMatchObject({
      message: expect.stringMatching(/^smtp\.send via named-ip: .*(IP|altnames|certificate)/i),
    })
  })

  it('never upgrades a tls: none relay, even when it offers STARTTLS', async () => {
    const before = offeringReceived.length
    expect((await send('named-clear')).accepted).toEqual(['ops@example.com'])
    expect(offeringReceived.slice(before)).toEqual([{ secure: false }])
  })

  it('speaks TLS from the start on smtps:// and on tls: "tls"', async () => {
    expect((await send('smtps')).accepted).toEqual(['ops@example.com'])
    expect((await send('tls')).accepted).toEqual(['ops@example.com'])
    // The same server reached with STARTTLS never answers in plain text.
    expect(
      await rejection(send('starttls-on-tls', MESSAGE, { limits: { smtpTimeoutMs: 500 } })),
    ).toMatchObject({ code: C.CAPABILITY_FAILED, retryable: true })
  })
})

describe('hostSmtpSend: refusals before connecting', () => {
  it('refuses a relay argument that is not a short string, an ungranted relay, an undefined one', async () => {
    expect(await rejection(send(7))).toEqual(
      failed('smtp.send relay: expected a non-empty string of at most 64 characters, got number'),
    )
    expect(await rejection(send('r'.repeat(65)))).toEqual(
      failed(
        'smtp.send relay: expected a non-empty string of at most 64 characters, got a string of 65 characters',
      ),
    )
    expect(await rejection(send('other'))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'smtp', value: 'other', reason: 'ungranted' },
    })
    expect(await rejection(send('ghost'))).toEqual(
      failed(
        'smtp.send: relay "ghost" is granted but the agent defines no such relay (grants.smtp.ghost.url)',
      ),
    )
  })

  it('refuses a bad message with the SDK’s rules, and the relay sees nothing', async () => {
    const before = peer.delivered.length
    const refused = async (message: unknown) => (await rejection(send('mail', message))).message
    expect(await refused('hello')).toBe(
      'smtp.send message: expected an object { to, subject, text or html }, got "hello"',
    )
    expect(await refused({ ...MESSAGE, subject: 'hi\r\nBcc: victim@example.com' })).toMatch(
      /^smtp\.send message\.subject: expected one line/,
    )
    expect(await refused({ ...MESSAGE, to: 'ops@example.com\r\nRCPT TO:<x@y.z>' })).toMatch(
      /^smtp\.send message\.to: /,
    )
    expect(
      await refused({ ...MESSAGE, to: Array.from({ length: 101 }, (_, i) => `u${i}@example.com`) }),
    ).toBe('smtp.send message: at most 100 recipients (to, cc and bcc), got 101')
    expect(await refused({ ...MESSAGE, headers: { Subject: 'x' } })).toMatch(
      /^smtp\.send message\.headers\.Subject: only X- headers/,
    )
    expect(await refused({ to: 'ops@example.com', subject: 's' })).toBe(
      'smtp.send message: expected text or html',
    )
    expect(await refused({ ...MESSAGE, attachments: [{ path: '/etc/passwd' }] })).toMatch(
      /^smtp\.send message\.attachments: unknown field/,
    )
    expect(peer.delivered).toHaveLength(before)
  })

  it('caps text and html together at limits.smtpMessageBytes', async () => {
    const limits = { smtpMessageBytes: 10 }
    expect(
      (await send('mail', { to: 'ops@example.com', subject: 's', text: '12345', html: '12345' }, { limits }))
        .accepted,
    ).toEqual(['ops@example.com'])
    expect(
      await rejection(
        send('mail', { to: 'ops@example.com', subject: 's', text: '12345', html: '123456' }, { limits }),
      ),
    ).toEqual(failed('smtp.send message: 11 characters of text and html; the limit is 10'))
  })

  it('requires a sender when the relay sets none', async () => {
    expect(await rejection(send('nofrom'))).toEqual(
      failed('smtp.send message.from: required, since relay "nofrom" sets no from (grants.smtp.nofrom.from)'),
    )
    expect((await send('nofrom', { ...MESSAGE, from: 'me@example.com' })).accepted).toEqual([
      'ops@example.com',
    ])
  })

  it('applies the address rules to the relay’s host, at its port (587, or 465 for TLS, by default)', async () => {
    const own = hostname().toLowerCase()
    expect(await rejection(send('elsewhere'))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'smtp relay "elsewhere"', value: `${own}:${plainPort}`, reason: 'address' },
    })
    for (const [relay, port] of [
      ['elsewhere-587', 587],
      ['elsewhere-465', 465],
      ['elsewhere-tls', 465],
    ] as const)
      expect((await rejection(send(relay))).data).toEqual({
        permission: `smtp relay "${relay}"`,
        value: `${own}:${port}`,
        reason: 'address',
      })
  })

  it('needs the password’s secret for the call, or a readable password file', async () => {
    expect(await rejection(send('mail', MESSAGE, { secrets: {} }))).toEqual({
      code: C.SECRET_MISSING,
      message:
        'smtp.send: relay "mail" takes its password from the secret SMTP_PASSWORD, which was not supplied for this call: the plugin must declare it in permissions.secrets and the agent grant it',
      data: { name: 'SMTP_PASSWORD' },
      retryable: false,
    })
    expect(await rejection(send('nofile', { ...MESSAGE, from: 'a@example.com' }))).toEqual(
      failed('smtp.send: relay "nofile": cannot read its passwordFile: ENOENT'),
    )
  })
})

describe('hostSmtpSend: failures', () => {
  it('fails on wrong credentials without retry, never showing the password', async () => {
    const r = await rejection(send('mail', MESSAGE, { secrets: { SMTP_PASSWORD: 'wrong-password' } }))
    expect(r).toEqual(
      failed(expect.stringMatching(/^smtp\.send via mail: Invalid login: 535 /) as unknown as string, {
        data: { smtpCode: 'EAUTH', responseCode: 535 },
      }),
    )
    expect(r.message).not.toContain('wrong-password')
  })

  it('fails a relay that names a user but no password without retry', async () => {
    expect(await rejection(send('nopass'))).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringMatching(/^smtp\.send via nopass: /),
      retryable: false,
      data: { smtpCode: 'EAUTH' },
    })
  })

  it('fails without AUTH when the relay URL names no user, and the relay requires it', async () => {
    expect(await rejection(send('anonymous'))).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringMatching(/^smtp\.send via anonymous: .*530/),
      retryable: false,
      data: { responseCode: 530 },
    })
  })

  it('does not trust a certificate the relay’s caFile does not vouch for', async () => {
    expect(await rejection(send('untrusted'))).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: expect.stringMatching(/^smtp\.send via untrusted: .*certificate/i),
    })
  })

  it('marks a refused recipient (5xx) final and a deferred one (4xx) retryable', async () => {
    expect(await rejection(send('mail', { ...MESSAGE, to: 'nobody@invalid.example' }))).toEqual(
      failed(expect.stringMatching(/^smtp\.send via mail: .*550/) as unknown as string, {
        data: { smtpCode: 'EENVELOPE', responseCode: 550 },
      }),
    )
    expect(await rejection(send('local', { ...MESSAGE, to: 'ops@later.example' }))).toEqual(
      failed(expect.stringMatching(/^smtp\.send via local: .*451/) as unknown as string, {
        data: { smtpCode: 'EENVELOPE', responseCode: 451 },
        retryable: true,
      }),
    )
    expect(await rejection(send('local', { ...MESSAGE, to: 'ops@broken.example' }))).toMatchObject({
      data: { smtpCode: 'EENVELOPE', responseCode: 500 },
      retryable: false,
    })
  })

  it('marks a relay it cannot reach retryable', async () => {
    expect(await rejection(send('down'))).toEqual(
      failed(`smtp.send via down: connect ECONNREFUSED 127.0.0.1:${closedPort}`, {
        data: { smtpCode: 'ESOCKET' },
        retryable: true,
      }),
    )
  })

  it('gives up on a relay that never greets at limits.smtpTimeoutMs or the deadline, as retryable', async () => {
    // The greeting and the idle socket time out together; either may say so first.
    const timedOut = failed(
      expect.stringMatching(/^smtp\.send via hang: (Greeting never received|Timeout)$/) as unknown as string,
      { data: { smtpCode: 'ETIMEDOUT' }, retryable: true },
    )
    expect(await rejection(send('hang', MESSAGE, { limits: { smtpTimeoutMs: 300 } }))).toEqual(timedOut)
    expect(await rejection(send('hang', MESSAGE, { deadline: Date.now() + 300 }))).toEqual(timedOut)
  })

  it('says "stopped or timed out" when the call’s signal aborted, hangs up, and lets go of the signal', async () => {
    const stop = new AbortController()
    // A minute to time out: only the stop can end it within the test's time.
    const running = rejection(
      send('hang', MESSAGE, { signal: stop.signal, limits: { smtpTimeoutMs: 60_000 } }),
    )
    const until = Date.now() + 10_000
    while (hung.size === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
    expect(hung.size).toBe(1)
    stop.abort()
    expect(await running).toEqual(failed('smtp.send via hang: stopped or timed out', { retryable: true }))
    // The connection is closed at the stop, not left to the relay's timeouts.
    const closed = Date.now() + 10_000
    while (hung.size > 0 && Date.now() < closed) await new Promise((r) => setTimeout(r, 10))
    expect(hung.size).toBe(0)
    const kept = new AbortController()
    await send('local', MESSAGE, { signal: kept.signal })
    expect(getEventListeners(kept.signal, 'abort')).toHaveLength(0)
  })

  it('sends nothing for a call stopped before the send began', async () => {
    const stop = new AbortController()
    stop.abort()
    const before = peer.delivered.length
    expect(await rejection(send('mail', MESSAGE, { signal: stop.signal }))).toEqual(
      failed('smtp.send via mail: stopped or timed out', { retryable: true }),
    )
    // A send after it reaches the relay: had the stopped one gone through, it would be first.
    await send('mail', { ...MESSAGE, subject: 'after the stop' })
    expect(peer.delivered.slice(before).map((m) => m.headers.subject)).toEqual(['after the stop'])
  })

  it('names the relay and the reason when its caFile cannot be read, not the agent’s path', async () => {
    const err = await rejection(send('nocafile'))
    expect(err).toEqual(failed('smtp.send: relay "nocafile": cannot read its caFile: ENOENT'))
  })
})
