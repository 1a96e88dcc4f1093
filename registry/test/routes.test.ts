import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RegistryError } from '../src/errors.ts'
import { registryRoutes } from '../src/http/routes.ts'
import type { Registry } from '../src/registry.ts'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { backends, dropSchema } from './helpers/backends.ts'
import { pluginFiles } from './helpers/plugin-fixtures.ts'
import { testRegistry } from './helpers/registry.ts'
import { TestRepo } from './helpers/repos.ts'

// The HTTP surface through fastify.inject: shapes, statuses, the operator check on
// mutations, and 4xx (never 500) for bad input, each naming the field.

const root = mkdtempSync(join(tmpdir(), 'stavily-routes-'))
const NAME = '@acme/stavily-plugin-restart'
const ENC = encodeURIComponent(NAME)
let repo: TestRepo
beforeAll(() => {
  repo = new TestRepo(root, 'restart')
  repo.write(pluginFiles({ version: '1.0.0' })).commit()
  repo.tag('v1.0.0')
  repo.write(pluginFiles({ version: '1.1.0' })).commit()
  repo.tag('v1.1.0')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** The orchestrator's check, reduced: a bearer token with a role. */
async function authorize(req: FastifyRequest, action: 'publish' | 'yank'): Promise<void> {
  const token = req.headers.authorization
  if (!token) throw new RegistryError('STAVILY_ERR_REGISTRY_UNAUTHORIZED', 'an operator token is required')
  if (token !== 'Bearer admin' && !(token === 'Bearer publisher' && action === 'publish'))
    throw new RegistryError('STAVILY_ERR_REGISTRY_FORBIDDEN', `this token may not ${action}`)
}

describe.each(backends)('registryRoutes on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  let reg: Registry
  let app: FastifyInstance
  beforeAll(async () => {
    db = await backend.open()
    reg = await testRegistry(db.sql)
    app = Fastify({ logger: false })
    await app.register(registryRoutes, { prefix: '/api/v1/registry', registry: reg, authorize })
    await app.ready()
  })
  afterAll(async () => {
    await app.close()
    await dropSchema(db.sql, reg.schema)
    await db.close()
  })
  const get = (url: string) => app.inject({ method: 'GET', url: `/api/v1/registry${url}` })
  const post = (url: string, payload?: unknown, token?: string) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/registry${url}`,
      ...(payload === undefined ? {} : { payload: payload as object }),
      headers: token ? { authorization: `Bearer ${token}` } : {},
    })

  it('publishes only for an authorised operator, then lists, resolves and serves', async () => {
    const body = { repo: repo.fileUrl, ref: 'v1.0.0' }
    expect((await post('/plugins', body)).statusCode).toBe(401)
    const created = await post('/plugins', body, 'publisher')
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({ status: 'published', version: { name: NAME, version: '1.0.0' } })
    expect((await post('/plugins', body, 'publisher')).json()).toMatchObject({ status: 'unchanged' })
    expect((await post('/plugins', { repo: repo.fileUrl, ref: 'v1.1.0' }, 'admin')).statusCode).toBe(201)

    const list = await get('/plugins?query=restart')
    expect(list.statusCode).toBe(200)
    expect(list.json().plugins).toEqual([
      expect.objectContaining({ name: NAME, latest: '1.1.0', kind: 'action' }),
    ])

    const versions = await get(`/plugins/${ENC}/versions`)
    expect(versions.json().versions.map((v: { version: string }) => v.version)).toEqual(['1.1.0', '1.0.0'])
    const one = await get(`/plugins/${ENC}/versions/1.0.0`)
    expect(one.json()).toMatchObject({
      provenance: { repository: repo.fileUrl, ref: 'v1.0.0' },
      permissions: { exec: ['systemctl'] },
    })

    expect((await get(`/plugins/${ENC}/resolve?range=${encodeURIComponent('~1.0.0')}`)).json().version).toBe(
      '1.0.0',
    )
    expect((await get(`/plugins/${ENC}/resolve?range=${encodeURIComponent('^1.0.0')}`)).json().version).toBe(
      '1.1.0',
    )

    const artifact = await get(`/plugins/${ENC}/versions/1.0.0/artifact`)
    expect(artifact.statusCode).toBe(200)
    expect(artifact.headers['content-type']).toMatch(/^application\/javascript/)
    expect(artifact.headers['x-stavily-digest']).toBe(one.json().digest)
    expect(artifact.rawPayload.byteLength).toBe(one.json().size)
  })

  it('streams publish progress as NDJSON when asked, ending with the result or the error', async () => {
    const stream = (ref: string) =>
      app
        .inject({
          method: 'POST',
          url: '/api/v1/registry/plugins',
          headers: { authorization: 'Bearer admin', accept: 'application/x-ndjson' },
          payload: { repo: repo.fileUrl, ref },
        })
        .then((res) => ({
          res,
          lines: res.body
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l)),
        }))
    const ok = await stream('v1.0.0')
    expect(ok.res.headers['content-type']).toMatch(/^application\/x-ndjson/)
    expect(ok.lines.map((l) => l.type)).toEqual(['progress', 'progress', 'progress', 'progress', 'result'])
    expect(ok.lines[0]).toMatchObject({ step: 'clone' })
    expect(ok.lines.at(-1)).toMatchObject({
      type: 'result',
      status: 'unchanged',
      version: { version: '1.0.0' },
    })
    const bad = await stream('v9.9.9')
    expect(bad.lines.at(-1)).toMatchObject({
      type: 'error',
      status: 422,
      code: 'STAVILY_ERR_REGISTRY_REF_NOT_FOUND',
    })
  })

  it('yanks only with the yank permission; the yanked version is skipped by ranges but still served', async () => {
    expect(
      (await post(`/plugins/${ENC}/versions/1.1.0/yank`, { reason: 'bad' }, 'publisher')).statusCode,
    ).toBe(403)
    const yanked = await post(`/plugins/${ENC}/versions/1.1.0/yank`, { reason: 'bad' }, 'admin')
    expect(yanked.statusCode).toBe(200)
    expect(yanked.json()).toMatchObject({ yanked: true, yankReason: 'bad' })
    expect((await get(`/plugins/${ENC}/resolve?range=${encodeURIComponent('^1.0.0')}`)).json().version).toBe(
      '1.0.0',
    )
    expect((await get(`/plugins/${ENC}/versions/1.1.0/artifact`)).statusCode).toBe(200)
  })

  it('serves TUF metadata and targets as a TUF client expects them', async () => {
    const root1 = await get('/tuf/1.root.json')
    expect(root1.statusCode).toBe(200)
    expect(root1.headers['content-type']).toMatch(/^application\/json/)
    expect(root1.json().signed._type).toBe('root')
    const ts = await get('/tuf/timestamp.json')
    expect(ts.headers['cache-control']).toBe('no-cache')
    const snapshotVersion = ts.json().signed.meta['snapshot.json'].version
    const snapshot = await get(`/tuf/${snapshotVersion}.snapshot.json`)
    const targetsVersion = snapshot.json().signed.meta['targets.json'].version
    const targets = (await get(`/tuf/${targetsVersion}.targets.json`)).json()
    const target = targets.signed.targets[`${NAME}/1.0.0.js`]
    const file = await get(`/tuf/targets/${NAME}/${target.hashes.sha256}.1.0.0.js`)
    expect(file.statusCode).toBe(200)
    expect(file.rawPayload.byteLength).toBe(target.length)
    expect((await get(`/tuf/targets/${NAME}/${'0'.repeat(64)}.1.0.0.js`)).statusCode).toBe(404)
    expect((await get('/tuf/99.root.json')).statusCode).toBe(404)
    expect((await get('/tuf/..%2Fetc%2Fpasswd')).statusCode).toBe(404)
  })

  it('answers bad input with a 4xx naming the field, never a 500', async () => {
    const cases: [
      Promise<{ statusCode: number; json(): { code: string; message: string } }>,
      number,
      RegExp,
    ][] = [
      [post('/plugins', { ref: 'v1.0.0' }, 'admin'), 400, /^body\.repo: /],
      [post('/plugins', { repo: 'not a url', ref: 'v1.0.0' }, 'admin'), 400, /^repo: /],
      [post('/plugins', { repo: repo.fileUrl, ref: '-x' }, 'admin'), 400, /^ref: /],
      [post('/plugins', { repo: repo.fileUrl, ref: 'v1.0.0', path: '../x' }, 'admin'), 400, /^path: /],
      [
        post('/plugins', { repo: repo.fileUrl, ref: 'nope' }, 'admin'),
        422,
        /^ref: no tag, branch or commit named "nope"/,
      ],
      [get('/plugins?limit=0'), 400, /^querystring\.limit: /],
      [get(`/plugins/${encodeURIComponent('Bad Name')}/versions`), 400, /^name: /],
      [
        get(`/plugins/${encodeURIComponent('@acme/unknown')}/versions`),
        404,
        /^name: no plugin named @acme\/unknown/,
      ],
      [get(`/plugins/${ENC}/versions/1.0`), 400, /^version: /],
      [get(`/plugins/${ENC}/versions/3.0.0`), 404, /^version: /],
      [get(`/plugins/${ENC}/resolve`), 400, /^querystring\.range: /],
      [get(`/plugins/${ENC}/resolve?range=${encodeURIComponent('>>1')}`), 400, /^range: /],
      [get(`/plugins/${ENC}/resolve?range=${encodeURIComponent('^5.0.0')}`), 404, /^range: no version/],
    ]
    for (const [pending, status, message] of cases) {
      const res = await pending
      expect({ status: res.statusCode, message: res.json().message }).toEqual({
        status,
        message: expect.stringMatching(message),
      })
      expect(res.json().code).toMatch(/^STAVILY_ERR_REGISTRY_/)
    }
    const malformed = await app.inject({
      method: 'POST',
      url: '/api/v1/registry/plugins',
      headers: { authorization: 'Bearer admin', 'content-type': 'application/json' },
      payload: '{"repo":',
    })
    expect(malformed.statusCode).toBe(400)
  })
})
