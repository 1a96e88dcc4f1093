import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Running, setups } from './helpers/harness.ts'

// Authentication and authorization come before validation on every route of both APIs and
// the registry's routes: with invalid params, query and body, a caller without a token gets
// 401 and a token of too low a role 403, never a 400 that describes the input. The routes
// come from the served OpenAPI document, so a new route is covered without editing this.

// The only routes a viewer may call that are not GETs: dry-runs change nothing.
const VIEWER_MAY = new Set(['POST /api/v1/workflows/dry-run', 'POST /api/v1/workflows/{idOrName}/dry-run'])
// Reached without an API token: their own authentication (HMAC, enrollment token, TUF signatures).
const PUBLIC = [
  /^POST \/api\/v1\/hooks\//,
  /^GET \/api\/v1\/registry\/tuf\//,
  /^POST \/agents\/v1\/register$/,
]
const ADMIN_ONLY = /^(GET|POST|DELETE) \/api\/v1\/tokens/
// Only the instance admin (the bootstrap token): organizations.
const INSTANCE_ONLY = /^(GET|POST|PATCH|DELETE) \/api\/v1\/organizations/

type Op = { method: string; path: string; body: boolean; query: string[] }

describe.each(setups())('authorization before validation ($name)', (setup) => {
  let r: Running
  let viewer: string
  let operator: string
  let orgAdmin: string
  let ops: Op[]
  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start()
    const mint = async (role: string) =>
      (await call(r.operatorUrl, 'POST', '/api/v1/tokens', { token: r.admin, body: { name: role, role } }))
        .body.token as string
    viewer = await mint('viewer')
    operator = await mint('operator')
    orgAdmin = await mint('admin')
    const doc = (await call(r.url, 'GET', '/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { requestBody?: unknown; parameters?: { in: string; name: string }[] }>
      >
    }
    ops = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([m, op]) => ({
        method: m.toUpperCase(),
        path,
        body: op.requestBody !== undefined,
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
      })),
    )
    expect(ops.length).toBeGreaterThan(40)
  }, 60_000)
  afterAll(() => setup.cleanup())

  // Every part invalid: a path parameter that is no id, a query value of the wrong type and
  // an unknown one, a body with an unknown field and a NUL.
  const hostile = (op: Op, token?: string) => {
    const path = op.path.replace(/\{[^}]+\}/g, 'not%20an%20id')
    const query = [...op.query.map((q) => `${q}=%00-1`), 'bogus=1'].join('&')
    const base = path.startsWith('/api/') ? r.operatorUrl : r.url
    return call(base, op.method, `${path}?${query}`, {
      ...(token ? { token } : {}),
      ...(op.body ? { body: { bogus: '\u0000', attempt: 'x' } } : {}),
    })
  }
  const key = (op: Op) => `${op.method} ${op.path}`

  it('no credential: 401 on every route that needs one, whatever the input', async () => {
    const wrong: string[] = []
    for (const op of ops) {
      if (PUBLIC.some((p) => p.test(key(op)))) continue
      const res = await hostile(op)
      if (res.status !== 401 || (res.body?.error?.code ?? res.body?.code) !== 'STAVILY_ERR_UNAUTHENTICATED')
        wrong.push(`${key(op)} → ${res.status} ${JSON.stringify(res.body)}`)
    }
    expect(wrong).toEqual([])
  })

  it('a forged or whitespace-mangled credential is a 401 too, before the body is looked at', async () => {
    for (const op of ops.filter((o) => o.body && !PUBLIC.some((p) => p.test(key(o))))) {
      const res = await hostile(op, 'stv_agent_forged')
      expect(res.status, key(op)).toBe(401)
    }
  })

  it('a viewer: 403 on every route that changes something, before its input is validated', async () => {
    const wrong: string[] = []
    for (const op of ops) {
      if (!op.path.startsWith('/api/') || PUBLIC.some((p) => p.test(key(op)))) continue
      if (
        (op.method === 'GET' && !ADMIN_ONLY.test(key(op)) && !INSTANCE_ONLY.test(key(op))) ||
        VIEWER_MAY.has(key(op))
      )
        continue
      const res = await hostile(op, viewer)
      if (res.status !== 403 || (res.body?.error?.code ?? res.body?.code) !== 'STAVILY_ERR_FORBIDDEN')
        wrong.push(`${key(op)} → ${res.status} ${JSON.stringify(res.body)}`)
    }
    expect(wrong).toEqual([])
  })

  it('an operator: 403 on the admin routes, before their input is validated', async () => {
    const admin = ops.filter((op) => ADMIN_ONLY.test(key(op)))
    expect(admin.length).toBe(3)
    for (const op of admin) expect((await hostile(op, operator)).status, key(op)).toBe(403)
  })

  it('an organization admin: 403 on the instance-admin routes, before their input is validated', async () => {
    const instance = ops.filter((op) => INSTANCE_ONLY.test(key(op)))
    expect(instance.length).toBe(4)
    for (const op of instance) expect((await hostile(op, orgAdmin)).status, key(op)).toBe(403)
  })

  it('an authorized caller then gets the 400 that names the field', async () => {
    const res = await call(r.operatorUrl, 'POST', '/api/v1/tokens', { token: r.admin, body: {} })
    expect(res.status).toBe(400)
    expect(res.body.error.field).toBe('body.name')
  })
})
