import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enqueue, enroll, type Running, setups } from './helpers/harness.ts'

// Bad input on every route: a 4xx whose message names the field, never a 500, never a
// partial write. One orchestrator per backend serves the file: PGlite with in-process fleet
// state, and PostgreSQL with Redis when DATABASE_URL and REDIS_URL are set.

describe.each(setups())('bad input ($name)', (setup) => {
  let r: Running
  let action: { id: string; credential: string }
  let sensor: { id: string; credential: string }
  let instId: string
  beforeAll(async () => {
    r = await setup.start({ tuning: { bodyLimitBytes: 4_096 } })
    action = await enroll(r, 'action', 'web')
    sensor = await enroll(r, 'sensor', 'web')
    instId = (await enqueue(r, { pool: 'web' })).id
  })
  afterAll(() => setup.cleanup())

  const count = async (table: string) =>
    (await r.o.services.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n

  type Case = [
    string,
    string,
    string,
    { token?: 'agent' | 'sensor' | 'admin'; body?: unknown; raw?: string; ctype?: string },
    number,
    string,
  ]
  const cases: Case[] = [
    // register
    [
      'POST',
      '/agents/v1/register',
      'missing field',
      { body: { name: 'a' } },
      400,
      'body.enrollmentToken: required',
    ],
    [
      'POST',
      '/agents/v1/register',
      'unknown field',
      { body: { enrollmentToken: 'x', name: 'a', admin: true } },
      400,
      'body.admin: unknown field',
    ],
    [
      'POST',
      '/agents/v1/register',
      'wrong type',
      { body: { enrollmentToken: 'x', name: 5 } },
      400,
      'body.name',
    ],
    [
      'POST',
      '/agents/v1/register',
      'bad label key',
      { body: { enrollmentToken: 'x', name: 'a', labels: { 'Bad Key': 'v' } } },
      400,
      'labels.Bad Key',
    ],
    [
      'POST',
      '/agents/v1/register',
      'forged token',
      { body: { enrollmentToken: 'stv_enroll_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', name: 'a' } },
      401,
      'enrollmentToken',
    ],
    ['POST', '/agents/v1/register', 'malformed JSON', { raw: '{"enrollmentToken": ' }, 400, 'body'],
    ['POST', '/agents/v1/register', 'not JSON', { raw: 'hello', ctype: 'text/plain' }, 415, 'content-type'],
    ['POST', '/agents/v1/register', 'array body', { body: [1, 2] }, 400, 'body'],
    [
      'POST',
      '/agents/v1/register',
      'huge body',
      { body: { enrollmentToken: 'x', name: 'a'.repeat(10_000) } },
      413,
      'body',
    ],
    // heartbeat
    ['POST', '/agents/v1/heartbeat', 'no credential', { body: {} }, 401, 'authorization'],
    ['POST', '/agents/v1/heartbeat', 'forged credential', { body: {}, token: 'admin' }, 401, 'authorization'],
    [
      'POST',
      '/agents/v1/heartbeat',
      'unknown field',
      { token: 'agent', body: { cpu: 1 } },
      400,
      'body.cpu: unknown field',
    ],
    // poll
    ['GET', '/agents/v1/instructions?max=0', 'max below 1', { token: 'agent' }, 400, 'query.max'],
    ['GET', '/agents/v1/instructions?max=abc', 'max not a number', { token: 'agent' }, 400, 'query.max'],
    [
      'GET',
      '/agents/v1/instructions?pool=db',
      'unknown parameter',
      { token: 'agent' },
      400,
      'query.pool: unknown field',
    ],
    // accept
    [
      'POST',
      '/agents/v1/instructions/not-a-uuid/accept',
      'bad id',
      { token: 'agent', body: { attempt: 1 } },
      400,
      'params.id',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/accept',
      'attempt missing',
      { token: 'agent', body: {} },
      400,
      'body.attempt: required',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/accept',
      'not held',
      { token: 'agent', body: { attempt: 1 } },
      409,
      'attempt',
    ],
    // result
    [
      'POST',
      '/agents/v1/instructions/:inst/result',
      'bad status',
      { token: 'agent', body: { attempt: 1, status: 'done' } },
      400,
      'body.status',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/result',
      'attempt string',
      { token: 'agent', body: { attempt: '1', status: 'succeeded' } },
      400,
      'body.attempt',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/result',
      'unknown error field',
      {
        token: 'agent',
        body: { attempt: 1, status: 'failed', error: { code: 'x', message: 'y', stack: 'z' } },
      },
      400,
      'body.error.stack: unknown field',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/result',
      'not held',
      { token: 'agent', body: { attempt: 1, status: 'succeeded' } },
      409,
      'attempt',
    ],
    [
      'POST',
      '/agents/v1/instructions/00000000-0000-4000-8000-000000000000/result',
      'unknown instruction',
      { token: 'agent', body: { attempt: 1, status: 'succeeded' } },
      409,
      'attempt',
    ],
    // events
    [
      'POST',
      '/agents/v1/events',
      'empty batch',
      { token: 'sensor', body: { events: [] } },
      400,
      'body.events',
    ],
    [
      'POST',
      '/agents/v1/events',
      'missing type',
      { token: 'sensor', body: { events: [{ source: 's' }] } },
      400,
      'body.events.0.type: required',
    ],
    [
      'POST',
      '/agents/v1/events',
      'bad time',
      { token: 'sensor', body: { events: [{ source: 's', type: 't', occurredAt: 'yesterday' }] } },
      400,
      'body.events.0.occurredAt',
    ],
    [
      'POST',
      '/agents/v1/events',
      'action agent',
      { token: 'agent', body: { events: [{ source: 's', type: 't' }] } },
      403,
      'events',
    ],
    // operator routes
    [
      'POST',
      '/api/v1/enrollment-tokens',
      'no token',
      { body: { kind: 'action', pool: 'x' } },
      401,
      'authorization',
    ],
    [
      'POST',
      '/api/v1/enrollment-tokens',
      'agent credential as API token',
      { token: 'agent', body: { kind: 'action', pool: 'x' } },
      401,
      'authorization',
    ],
    [
      'POST',
      '/api/v1/enrollment-tokens',
      'bad kind',
      { token: 'admin', body: { kind: 'output', pool: 'x' } },
      400,
      'body.kind',
    ],
    [
      'POST',
      '/api/v1/enrollment-tokens',
      'bad pool',
      { token: 'admin', body: { kind: 'action', pool: 'Web Pool' } },
      400,
      'body.pool',
    ],
    [
      'POST',
      '/api/v1/enrollment-tokens',
      'ttl too long',
      { token: 'admin', body: { kind: 'action', pool: 'x', ttlSeconds: 999_999_999 } },
      400,
      'ttlSeconds',
    ],
    [
      'POST',
      '/api/v1/tokens',
      'bad role',
      { token: 'admin', body: { name: 'n', role: 'root' } },
      400,
      'body.role',
    ],
    [
      'POST',
      '/api/v1/instructions',
      'missing plugin',
      { token: 'admin', body: { kind: 'action', pool: 'x', operation: 'run' } },
      400,
      'body.plugin: required',
    ],
    [
      'POST',
      '/api/v1/instructions',
      'bad retry limit',
      { token: 'admin', body: { kind: 'action', pool: 'x', operation: 'run', plugin: 'p', retryLimit: -1 } },
      400,
      'body.retryLimit',
    ],
    ['GET', '/api/v1/instructions/123', 'bad id', { token: 'admin' }, 400, 'params.id'],
    [
      'POST',
      '/api/v1/agents/00000000-0000-4000-8000-000000000000/revoke',
      'unknown agent',
      { token: 'admin' },
      404,
      'agent',
    ],
    [
      'POST',
      '/api/v1/agents/:agent/drain',
      'drain not boolean',
      { token: 'admin', body: { drain: 'yes' } },
      400,
      'body.drain',
    ],
    ['GET', '/api/v1/nope', 'unknown route', { token: 'admin' }, 404, 'no such route'],
    // The one value policy at the boundary (core/src/http/wire-boundary.ts), in every part.
    [
      'POST',
      '/agents/v1/events',
      'NUL in event data',
      { token: 'sensor', body: { events: [{ source: 's', type: 't', data: { x: 'a\u0000b' } }] } },
      400,
      'body.events[0].data.x: must not contain a NUL',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/result',
      'lone surrogate in an output key',
      { token: 'agent', body: { attempt: 1, status: 'succeeded', output: { '\uD800k': 1 } } },
      400,
      'lone UTF-16 surrogate',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/result',
      'output nested 65 deep',
      {
        token: 'agent',
        raw: `{"attempt":1,"status":"succeeded","output":${'['.repeat(65)}${']'.repeat(65)}}`,
      },
      400,
      'nests deeper than 64 levels',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/result',
      'JSON nested 1,500 deep',
      {
        token: 'agent',
        raw: `{"attempt":1,"status":"succeeded","output":${'['.repeat(1_500)}${']'.repeat(1_500)}}`,
      },
      400,
      'body.output',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/accept',
      'duplicate key',
      { token: 'agent', raw: '{"attempt":1,"attempt":2}' },
      400,
      'body.attempt: duplicate key',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/accept',
      'attempt past the column',
      { token: 'agent', body: { attempt: 2 ** 40 } },
      400,
      'body.attempt',
    ],
    [
      'POST',
      '/agents/v1/instructions/:inst/result',
      'attempt 1e300',
      { token: 'agent', raw: '{"attempt":1e300,"status":"failed"}' },
      400,
      'body.attempt',
    ],
    [
      'GET',
      '/api/v1/audit?afterSeq=1e300',
      'afterSeq past the column',
      { token: 'admin' },
      400,
      'query.afterSeq',
    ],
    ['GET', '/api/v1/audit?action=%00', 'NUL in a query value', { token: 'admin' }, 400, 'query.action'],
    [
      'GET',
      '/api/v1/registry/plugins?offset=9223372036854776000',
      'registry offset past bigint',
      { token: 'admin' },
      400,
      'offset',
    ],
    [
      'POST',
      '/api/v1/hooks/00000000-0000-4000-8000-000000000000',
      'duplicate key in a webhook body',
      { raw: '{"service":"a","service":"b"}' },
      400,
      'body.service: duplicate key',
    ],
    ['GET', '/api/v1/instructions/%E0%A4%A', 'malformed percent-escape', { token: 'admin' }, 400, 'path'],
    ['GET', '/api/v1/registry/tuf/%E0%A4%A', 'malformed escape in a registry path', {}, 400, 'path'],
  ]

  it.each(cases)('%s %s: %s', async (method, path, _what, c, status, names) => {
    const before = await Promise.all(
      ['agents', 'instructions', 'events', 'results', 'enrollment_tokens', 'api_tokens'].map(count),
    )
    const token =
      c.token === 'agent'
        ? action.credential
        : c.token === 'sensor'
          ? sensor.credential
          : c.token === 'admin'
            ? r.admin
            : undefined
    const url = path.startsWith('/api') ? r.operatorUrl : r.url
    const res = await call(url, method, path.replace(':inst', instId).replace(':agent', action.id), {
      ...(token ? { token } : {}),
      ...(c.body !== undefined ? { body: c.body } : {}),
      ...(c.raw !== undefined ? { raw: c.raw } : {}),
      ...(c.ctype ? { headers: { 'content-type': c.ctype } } : {}),
    })
    expect(res.status, JSON.stringify(res.body)).toBe(status)
    // The registry's routes answer its own shape: { code, message } at the top.
    const err = res.body.error ?? res.body
    expect(err.code).toMatch(/^STAVILY_ERR_/)
    expect(`${err.message} ${err.field ?? ''}`).toContain(names)
    const after = await Promise.all(
      ['agents', 'instructions', 'events', 'results', 'enrollment_tokens', 'api_tokens'].map(count),
    )
    expect(after).toEqual(before)
  })

  it('an instruction may take the longest timeout its schema allows (pg-boss caps expiry below 24 h)', async () => {
    const res = await call(r.operatorUrl, 'POST', '/api/v1/instructions', {
      token: r.admin,
      body: { kind: 'action', pool: 'long', operation: 'run', plugin: 'p', timeoutMs: 86_400_000 },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
  })

  it('refuses a body that is not valid UTF-8, naming the body', async () => {
    const res = await fetch(`${r.url}/agents/v1/instructions/${instId}/accept`, {
      method: 'POST',
      headers: { authorization: `Bearer ${action.credential}`, 'content-type': 'application/json' },
      body: Buffer.from([0x7b, 0x22, 0x61, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: { field: 'body', message: 'body: not valid UTF-8' } })
  })

  it('a registry target path is decoded once: an escaped percent is a 404, not a 500', async () => {
    const res = await call(r.url, 'GET', '/api/v1/registry/tuf/targets/%25E0')
    expect(res.status).toBe(404)
    expect(res.body.code).toBe('STAVILY_ERR_REGISTRY_ARTIFACT_NOT_FOUND')
  })

  it('enforces roles: a viewer reads but cannot enqueue or mint tokens', async () => {
    const viewer = await call(r.operatorUrl, 'POST', '/api/v1/tokens', {
      token: r.admin,
      body: { name: 'v', role: 'viewer' },
    })
    expect(viewer.status).toBe(201)
    expect(viewer.body.token).toMatch(/^stv_api_/)
    const v = viewer.body.token as string
    expect((await call(r.operatorUrl, 'GET', `/api/v1/instructions/${instId}`, { token: v })).status).toBe(
      200,
    )
    const refused = await call(r.operatorUrl, 'POST', '/api/v1/instructions', {
      token: v,
      body: { kind: 'action', pool: 'x', operation: 'run', plugin: 'p' },
    })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('STAVILY_ERR_FORBIDDEN')
    expect(
      (await call(r.operatorUrl, 'POST', '/api/v1/tokens', { token: v, body: { name: 'x', role: 'admin' } }))
        .status,
    ).toBe(403)
    // Only the hash is stored.
    const { rows } = await r.o.services.db.sql.query<{ h: Buffer }>('SELECT token_hash AS h FROM api_tokens')
    expect(rows.every((row) => !row.h.toString('latin1').includes(v))).toBe(true)
  })

  it('rate-limits per credential and answers 429 with Retry-After', async () => {
    const limited = await setup.start({ tuning: { rateLimitPerCredential: 3 } })
    const a = await enroll(limited, 'action', 'rl')
    const codes: number[] = []
    for (let i = 0; i < 5; i++)
      codes.push(
        (await call(limited.url, 'POST', '/agents/v1/heartbeat', { token: a.credential, body: {} })).status,
      )
    expect(codes).toEqual([200, 200, 200, 429, 429])
    const last = await call(limited.url, 'POST', '/agents/v1/heartbeat', { token: a.credential, body: {} })
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(last.body.error.code).toBe('STAVILY_ERR_RATE_LIMITED')
  })

  it('serves OpenAPI for the agent API', async () => {
    const doc = await call(r.url, 'GET', '/openapi.json')
    expect(doc.status).toBe(200)
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/agents/v1/register',
        '/agents/v1/instructions',
        '/agents/v1/instructions/{id}/result',
      ]),
    )
  })
})
