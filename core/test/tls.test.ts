import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { connect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../test/temp-dir.ts'
import { type Pem, TestPki } from '../../test/tls-certs.ts'
import { startChild } from './helpers/child.ts'
import { type Running, setups, until } from './helpers/harness.ts'

// TLS on both listeners, with client certificates required on the agent listener (mTLS):
// a client with a certificate from the configured CA gets through; no certificate, one
// from another CA, or an expired one is refused in the handshake. The operator listener
// asks for none. SIGHUP makes a running orchestrator serve a renewed certificate on the
// same listener. Certificates are made by the test (openssl).

const pki = new TestPki()
const ca = pki.ca('ca')
const otherCa = pki.ca('other-ca')
const server = pki.issue(ca, 'server', 'server')
const good = pki.issue(ca, 'agent', 'client')
const foreign = pki.issue(otherCa, 'foreign-agent', 'client')
const expired = pki.issue(ca, 'expired-agent', 'client', { expired: true })

type Reply = { status: number; body: unknown }

/** `openssl verify` of a client certificate against the client CA: its verdict. */
function verify(client: Pem): string {
  try {
    return execFileSync('openssl', ['verify', '-CAfile', ca.cert, client.cert], {
      encoding: 'utf8',
      stdio: 'pipe',
    })
  } catch (err) {
    return `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`
  }
}

function https(
  base: string,
  method: string,
  path: string,
  opts: { client?: Pem; token?: string; body?: unknown } = {},
): Promise<Reply> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method,
        ca: readFileSync(ca.cert),
        ...(opts.client ? { cert: readFileSync(opts.client.cert), key: readFileSync(opts.client.key) } : {}),
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        agent: false,
      },
      (res) => {
        let text = ''
        res.on('data', (d: Buffer) => {
          text += d.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe.each(setups())('TLS and mTLS ($name)', (setup) => {
  let r: Running
  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start({
      tls: { certFile: server.cert, keyFile: server.key, clientCaFile: ca.cert },
      operatorListen: { host: '127.0.0.1', port: 0 },
    })
  }, 60_000)
  afterAll(() => setup.cleanup())

  it('serves HTTPS on both listeners; the operator listener needs no client certificate', async () => {
    expect(r.url).toMatch(/^https:\/\/127\.0\.0\.1:/)
    expect(r.operatorUrl).toMatch(/^https:\/\//)
    const res = await https(r.operatorUrl, 'GET', '/api/v1/agents', { token: r.admin })
    expect(res.status).toBe(200)
  })

  it('an agent with a certificate from the client CA enrolls and polls over mTLS', async () => {
    const et = await https(r.operatorUrl, 'POST', '/api/v1/enrollment-tokens', {
      token: r.admin,
      body: { kind: 'action', pool: 'tls' },
    })
    expect(et.status).toBe(201)
    const reg = await https(r.url, 'POST', '/agents/v1/register', {
      client: good,
      body: { enrollmentToken: (et.body as { token: string }).token, name: 'tls-agent' },
    })
    expect(reg.status, JSON.stringify(reg.body)).toBe(201)
    const poll = await https(r.url, 'GET', '/agents/v1/instructions?waitMs=0', {
      client: good,
      token: (reg.body as { credential: string }).credential,
    })
    expect(poll.status).toBe(200)
  })

  it('refuses in the handshake: no client certificate, another CA, an expired certificate', async () => {
    // The client sees only a closed connection; what is wrong with each certificate is
    // checked against the CA the way the server checks it (openssl verify), so a refusal
    // here is for that reason and no other (the good certificate of the same CA passes).
    for (const [what, client, problem] of [
      ['none', undefined, undefined],
      ['another CA', foreign, /unable to get local issuer certificate/],
      ['expired', expired, /certificate has expired/],
    ] as const) {
      if (client && problem) expect(verify(client), what).toMatch(problem)
      const attempt = https(r.url, 'GET', '/healthz', client ? { client } : {})
      await expect(attempt, what).rejects.toThrow(/certificate|alert|socket hang up|ECONNRESET/i)
    }
    expect(verify(good)).toMatch(/: OK/)
  })
})

describe('TLS certificate reload on SIGHUP', () => {
  it('serves the renewed certificate on the same listener, and keeps the old one when the new files are bad', async () => {
    const live = pki.issue(ca, 'live', 'server')
    const first = pki.issue(ca, 'server-first', 'server')
    const renewed = pki.issue(ca, 'server-renewed', 'server')
    writeFileSync(live.cert, readFileSync(first.cert))
    writeFileSync(live.key, readFileSync(first.key))
    const child = await startChild({
      STAVILY_PORT: '0',
      // Embedded PGlite in a folder of its own, whatever the suite's backend.
      STAVILY_DATA_DIR: tempDir('tls-child'),
      DATABASE_URL: '',
      REDIS_URL: '',
      STAVILY_TLS_CERT_FILE: live.cert,
      STAVILY_TLS_KEY_FILE: live.key,
    })
    try {
      const port = Number(new URL(child.url).port)
      const served = () =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(
            { host: '127.0.0.1', port, ca: readFileSync(ca.cert), servername: 'localhost' },
            () => {
              const cert = socket.getPeerCertificate()
              socket.end()
              resolve(cert.subject.CN as string)
            },
          )
          socket.on('error', reject)
        })
      expect(await served()).toBe('server-first')
      writeFileSync(live.cert, readFileSync(renewed.cert))
      writeFileSync(live.key, readFileSync(renewed.key))
      child.proc.kill('SIGHUP')
      await until(async () => (await served()) === 'server-renewed', 15_000, 'the renewed certificate')
      // A broken file: the reload fails, says so, and the last good certificate stays.
      writeFileSync(live.cert, 'not a certificate')
      child.proc.kill('SIGHUP')
      await until(async () => child.stderr().includes('TLS reload failed'), 15_000, 'the failed reload')
      expect(await served()).toBe('server-renewed')
    } finally {
      child.proc.kill('SIGTERM')
      await new Promise((resolve) => child.proc.once('exit', resolve))
    }
  }, 90_000)
})
