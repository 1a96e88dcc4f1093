import { copyFileSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { type Pem, TestPki } from '../../../test/tls-certs.ts'
import { ApiClient } from '../../src/agent/api-client.ts'
import { loadConfig } from '../../src/agent/config.ts'
import { installTlsClient } from '../../src/agent/tls-client.ts'

// The agent's side of TLS: a CA bundle to trust and a client certificate it presents when
// the orchestrator requires one (mTLS). A real HTTPS server that requires client
// certificates from the test's CA stands in for the orchestrator's agent listener (core's
// tls.test.ts covers the orchestrator's side).

const pki = new TestPki()
const ca = pki.ca('ca')
const server = pki.issue(ca, 'orchestrator', 'server')
const agentCert = pki.issue(ca, 'agent-7', 'client')
const renewedCert = pki.issue(ca, 'agent-8', 'client')

describe('agent TLS client', () => {
  let url: string
  let seen: string[] = []
  const srv = createServer(
    {
      cert: readFileSync(server.cert),
      key: readFileSync(server.key),
      ca: readFileSync(ca.cert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      seen.push((req.socket as TLSSocket).getPeerCertificate().subject.CN as string)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ path: req.url }))
    },
  )
  beforeAll(async () => {
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
    url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => srv.close(() => resolve())))

  const files = (p: Pem) => ({ caFile: ca.cert, certFile: p.cert, keyFile: p.key })

  it('without the CA and certificate the request fails like a network error (retried)', async () => {
    const api = new ApiClient(url, 'test')
    await expect(api.request('GET', '/heartbeat')).rejects.toMatchObject({ kind: 'retry' })
  })

  it('with them, the agent API client connects over mTLS and presents its certificate', async () => {
    installTlsClient(files(agentCert), url)
    seen = []
    const res = await new ApiClient(url, 'test').request<{ path: string }>('GET', '/heartbeat')
    expect(res.body.path).toBe('/agents/v1/heartbeat')
    expect(seen).toEqual(['agent-7'])
  })

  it('takes the files from flags, environment or the config file, both or neither of certificate and key', () => {
    const base = ['--orchestrator', url]
    const c = loadConfig([...base, '--tls-ca', ca.cert, '--tls-client-cert', agentCert.cert], {
      STAVILY_TLS_CLIENT_KEY_FILE: agentCert.key,
    })
    expect(c.tls).toEqual(files(agentCert))
    expect(() => loadConfig([...base, '--tls-client-cert', agentCert.cert], {})).toThrow(
      /STAVILY_TLS_CLIENT_KEY_FILE|tlsClientKeyFile|--tls-client-key/,
    )
    expect(() =>
      installTlsClient({ caFile: '/nonexistent/ca.pem', certFile: undefined, keyFile: undefined }, url),
    ).toThrow(/tlsCaFile: .*cannot read \/nonexistent\/ca.pem \(ENOENT\)/)
  })

  it('presents the certificate only to the orchestrator, never to another origin', async () => {
    installTlsClient(files(agentCert), url)
    // The same server under another name is another origin: the CA still verifies it, but
    // the agent's identity is not offered, so this server (which requires one) refuses.
    const other = url.replace('127.0.0.1', 'localhost')
    seen = []
    await expect(new ApiClient(other, 'test').request('GET', '/heartbeat')).rejects.toMatchObject({
      kind: 'retry',
    })
    expect(seen).toEqual([])
    await new ApiClient(url, 'test').request('GET', '/heartbeat')
    expect(seen).toEqual(['agent-7'])
  })

  it('reload reads renewed files; a file that cannot be read keeps the old ones in use', async () => {
    const dir = tempDir('agent-tls')
    const live = { caFile: ca.cert, certFile: join(dir, 'agent.crt'), keyFile: join(dir, 'agent.key') }
    copyFileSync(agentCert.cert, live.certFile)
    copyFileSync(agentCert.key, live.keyFile)
    const tls = installTlsClient(live, url)
    const api = new ApiClient(url, 'test')
    seen = []
    await api.request('GET', '/heartbeat')
    copyFileSync(renewedCert.cert, live.certFile)
    copyFileSync(renewedCert.key, live.keyFile)
    tls.reload()
    await api.request('GET', '/heartbeat')
    expect(seen).toEqual(['agent-7', 'agent-8'])
    rmSync(live.keyFile)
    expect(() => tls.reload()).toThrow(/tlsClientKeyFile: .*ENOENT/)
    await api.request('GET', '/heartbeat')
    expect(seen).toEqual(['agent-7', 'agent-8', 'agent-8'])
  })
})
