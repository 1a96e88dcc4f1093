// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts) against a loopback HTTP API: JSON in and out, a secret header,
// Retry-After honoured between attempts, and the statuses that fail at once.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  callIds,
  inSandbox,
  itBundlesForTheSandbox,
  type LoopbackServer,
  loopbackServer,
} from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

let api: LoopbackServer
/** Per path: the answers still to give, in order (then 200 with the request echoed). */
const script = new Map<string, { status: number; headers?: Record<string, string>; body?: string }[]>()
const seen: { path: string; at: number; headers: IncomingMessage['headers'] }[] = []

beforeAll(async () => {
  api = await loopbackServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]!
    seen.push({ path, at: Date.now(), headers: req.headers })
    const next = script.get(path)?.shift()
    if (next) {
      res.writeHead(next.status, next.headers).end(next.body ?? '')
      return
    }
    const last = api.requests[api.requests.length - 1]!
    res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'r-1' })
    res.end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        received: last.body ? JSON.parse(last.body) : null,
      }),
    )
  })
})
afterAll(async () => api.close())

const grants = { net: ['127.0.0.1'], exec: ['sleep'], secrets: ['HTTP_REQUEST_TOKEN'] }
const secrets = { HTTP_REQUEST_TOKEN: 'tok-123' }

describe('http-request bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'action')

  it('sends JSON with a secret header and returns status, headers and the JSON body', async () => {
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const r = await sandbox.invoke(name, {
        ...callIds(),
        secrets,
        config: {
          url: `${api.url}/apis/apps/v1`,
          method: 'PATCH',
          headers: { 'content-type': 'application/merge-patch+json' },
          secretHeaders: [{ header: 'Authorization', secret: 'HTTP_REQUEST_TOKEN', prefix: 'Bearer ' }],
        },
        input: {
          path: '/namespaces/shop/deployments/web/scale',
          query: { dryRun: 'All' },
          body: { spec: { replicas: 5 } },
        },
      })
      expect(r.output).toMatchObject({
        status: 200,
        ok: true,
        attempts: 1,
        headers: { 'x-request-id': 'r-1' },
        json: {
          method: 'PATCH',
          url: '/apis/apps/v1/namespaces/shop/deployments/web/scale?dryRun=All',
          received: { spec: { replicas: 5 } },
        },
      })
      const req = seen[seen.length - 1]!
      expect(req.headers.authorization).toBe('Bearer tok-123')
      expect(req.headers['content-type']).toBe('application/merge-patch+json')
      expect(req.headers['idempotency-key']).toEqual(expect.any(String))
    })
  }, 60_000)

  it('waits as Retry-After says, then succeeds; the same idempotency key on every attempt', async () => {
    script.set('/busy', [
      { status: 503, headers: { 'retry-after': '1' }, body: 'overloaded' },
      { status: 429, headers: { 'retry-after': '1' } },
    ])
    const before = seen.length
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const r = await sandbox.invoke(name, {
        ...callIds(),
        config: { url: `${api.url}/busy`, retries: 3 },
        input: {},
      })
      expect(r.output).toMatchObject({ status: 200, attempts: 3 })
    })
    const attempts = seen.slice(before)
    expect(attempts).toHaveLength(3)
    // Retry-After: 1 → at least a second between attempts (a lower bound, not a timing target).
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950)
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(950)
    expect(new Set(attempts.map((a) => a.headers['idempotency-key'])).size).toBe(1)
  }, 60_000)

  it('fails at once on an unexpected status, and retryably when the API stays unavailable', async () => {
    script.set('/missing', [{ status: 404, body: '{"message":"deployments.apps \\"web\\" not found"}' }])
    script.set('/later', [{ status: 429, headers: { 'retry-after': '120' } }])
    const before = seen.length
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      await expect(
        sandbox.invoke(name, { ...callIds(), config: { url: `${api.url}/missing` }, input: {} }),
      ).rejects.toMatchObject({
        code: 'HTTP_REQUEST_UNEXPECTED_STATUS',
        retryable: false,
        message: expect.stringContaining(
          'answered HTTP 404, expected 2xx: {"message":"deployments.apps \\"web\\" not found"}',
        ),
      })
      // Retry-After beyond maxRetryDelayMs: no wait in the call; the step's retry policy takes over.
      await expect(
        sandbox.invoke(name, { ...callIds(), config: { url: `${api.url}/later` }, input: {} }),
      ).rejects.toMatchObject({
        code: 'HTTP_REQUEST_UNAVAILABLE',
        retryable: true,
        data: { status: 429, attempts: 1, retryAfterMs: 120_000 },
      })
    })
    expect(seen.slice(before).map((s) => s.path)).toEqual(['/missing', '/later'])
  }, 60_000)

  it('reaches only granted hosts', async () => {
    await inSandbox(import.meta.url, pkg, { ...grants, net: ['api.example.com'] }, async (sandbox, name) => {
      await expect(
        sandbox.invoke(name, { ...callIds(), config: { url: `${api.url}/x` }, input: {} }),
      ).rejects.toMatchObject({ code: 'STAVILY_ERR_PERMISSION_DENIED' })
    })
  }, 60_000)
})
