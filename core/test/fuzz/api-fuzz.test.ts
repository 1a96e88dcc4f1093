import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { actors, webhookWorkflow } from '../api/helpers.ts'
import { call, enqueue, enroll, type Running, setups } from '../helpers/harness.ts'
import {
  type FuzzRequest,
  type Known,
  operationsOf,
  pagesByCursor,
  requestsTo,
  type TokenKind,
} from './from-openapi.ts'

// The standing fuzz suite of both APIs and the registry's routes the orchestrator serves:
// requests generated from the served OpenAPI document, hostile values in every field
// (fuzz/hostile.ts), sent with every kind of credential, on both backends. It asserts:
// - no answer is a 5xx;
// - the server stays up (answers /healthz after every request that failed to connect);
// - a request answered 4xx wrote no row: the row count of every table of the
//   orchestrator's schema and of pg-boss's is the same before and after it.
// A fixed seed and run count keep CI fast and reproducible; FUZZ_RUNS and FUZZ_SEED run
// more or other cases locally (a failure prints the seed and path that reproduce it).

const RUNS = Number(process.env.FUZZ_RUNS ?? 400)
// Forged cursors alone, to the list routes: each route gets a few dozen (cheap GETs).
const CURSOR_RUNS = Math.ceil(RUNS / 4)
const SEED = Number(process.env.FUZZ_SEED ?? 20261207)
const verbose = process.env.FUZZ_VERBOSE === '1'

// The long-poll is held at most this long, so a generated poll costs little time.
const TUNING = {
  pollWaitMs: 50,
  pollWaitMaxMs: 100,
  pollJitterMs: 0,
  leaseTtlMs: 600_000,
  rateLimitPerCredential: 1_000_000,
  rateLimitPerIp: 1_000_000,
  registerLimitPerIp: 1_000_000,
  operatorRateLimitPerToken: 1_000_000,
  operatorRateLimitPerIp: 1_000_000,
}

describe.each(setups())('fuzz: both APIs under hostile input ($name)', (setup) => {
  let r: Running
  let tokens: Record<Exclude<TokenKind, 'none'>, string>
  let known: Known
  let tables: string[]

  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start({ engine: { background: false }, tuning: TUNING })
    const who = await actors(r, 'fuzz-other')
    const agent = await enroll(r, 'action', 'web')
    const sensor = await enroll(r, 'sensor', 'web')
    // Ids the generator may name: objects of this organization and of the other one. The
    // fuzzing agents' own ids are not among them, so a generated revoke leaves them working.
    const victim = await enroll(r, 'action', 'victim')
    const foreign = await enroll(r, 'action', 'web', { token: who.other })
    const inst = await enqueue(r, { pool: 'web' })
    const leased = await enqueue(r, { pool: 'victim' })
    await call(r.url, 'GET', '/agents/v1/instructions?waitMs=100', { token: victim.credential })
    await call(r.operatorUrl, 'POST', '/api/v1/workflows', {
      token: r.admin,
      body: { document: webhookWorkflow() },
    })
    const org = (await r.o.services.db.sql.query<{ id: string }>('SELECT id FROM organizations LIMIT 1'))
      .rows[0]!.id
    tokens = {
      admin: r.admin,
      operator: who.operator,
      viewer: who.viewer,
      otherAdmin: who.other,
      agent: agent.credential,
      sensor: sensor.credential,
      forged: `stv_agent_${'A'.repeat(43)}`,
      mangled: `  ${r.admin}\t`,
      mangledAgent: ` ${agent.credential}  `,
    }
    known = {
      ids: [victim.id, foreign.id, inst.id, leased.id, who.ids.viewer, org],
      names: [
        'web',
        'victim',
        'restart-on-hook',
        '@acme/restart',
        'HOOK_KEY',
        'action',
        'sensor',
        '1.0.0',
        '^1.0.0',
      ],
    }
    const schema = (r.config.database as { schema: string }).schema
    const { rows } = await r.o.services.db.sql.query<{ s: string; t: string }>(
      `SELECT table_schema AS s, table_name AS t FROM information_schema.tables
        WHERE table_schema IN ($1, $2) AND table_type = 'BASE TABLE' ORDER BY 1, 2`,
      [schema, `${schema}_boss`],
    )
    tables = rows.map((t) => `"${t.s}"."${t.t}"`)
    expect(tables.length).toBeGreaterThan(10)
  }, 120_000)
  afterAll(() => setup.cleanup())

  const rowCounts = async (): Promise<Record<string, number>> => {
    const select = tables.map((t, i) => `(SELECT count(*)::int FROM ${t}) AS c${i}`).join(', ')
    const row = (await r.o.services.db.sql.query<Record<string, number>>(`SELECT ${select}`)).rows[0]!
    return Object.fromEntries(tables.map((t, i) => [t, row[`c${i}`]!]))
  }

  const send = async (req: FuzzRequest): Promise<{ status: number; text: string }> => {
    const headers: Record<string, string> = {}
    if (req.token !== 'none') headers.authorization = `Bearer ${tokens[req.token]}`
    if (req.token === 'mangled' || req.token === 'mangledAgent')
      headers.authorization = `bearer ${tokens[req.token]}`
    if (req.body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(req.url, {
      method: req.op.method,
      headers,
      body: req.body,
      signal: AbortSignal.timeout(15_000),
    })
    // The event stream never ends by itself: its status and first bytes are the answer.
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
      await res.body?.cancel()
      return { status: res.status, text: '' }
    }
    const text = await res.text()
    // A rotation replaces the credential: keep fuzzing with the new one.
    if (res.status === 200 && req.op.path === '/agents/v1/credential/rotate' && req.token !== 'none')
      tokens[req.token] = (JSON.parse(text) as { credential: string }).credential
    return { status: res.status, text }
  }

  it(`answers every generated request without a 5xx and writes nothing on a 4xx (${RUNS} + ${CURSOR_RUNS} cursor runs, seed ${SEED})`, async () => {
    const doc = (await call(r.url, 'GET', '/openapi.json')).body
    const ops = operationsOf(doc)
    expect(ops.length).toBeGreaterThan(40)
    const base = (op: (typeof ops)[number]) => (op.path.startsWith('/api/') ? r.operatorUrl : r.url)
    const paged = ops.filter(pagesByCursor)
    expect(paged.length).toBeGreaterThan(3)
    const requests = fc.oneof(...ops.map((op) => requestsTo(op, base(op), known)))
    const cursors = fc.oneof(...paged.map((op) => requestsTo(op, base(op), known, true)))
    const seen = new Map<string, number>()
    let before = await rowCounts()
    const check = (arb: fc.Arbitrary<FuzzRequest>, numRuns: number) =>
      fc.check(
        fc.asyncProperty(arb, async (req) => {
          const res = await send(req)
          // FUZZ_VERBOSE=1 prints what each route answered (and why, for a 400): is the run reaching the handlers?
          const why = verbose && res.status === 400 ? ` ${res.text.slice(0, 90)}` : ''
          const key = `${req.op.method} ${req.op.path} ${res.status}${why}`
          seen.set(key, (seen.get(key) ?? 0) + 1)
          if (res.status >= 500) throw new Error(`answered ${res.status}: ${res.text.slice(0, 300)}`)
          const after = await rowCounts()
          if (res.status >= 400) {
            const changed = Object.keys(after).filter((t) => after[t] !== before[t])
            if (changed.length > 0)
              throw new Error(
                `answered ${res.status} but wrote rows in ${changed.join(', ')}: ${res.text.slice(0, 200)}`,
              )
          }
          before = after
        }),
        { seed: SEED, numRuns, endOnFailure: true },
      )
    let details = await check(requests, RUNS)
    if (!details.failed) details = await check(cursors, CURSOR_RUNS)
    // A short report: the request (its body cut), the error, and how to replay it.
    if (details.failed) {
      const req = details.counterexample?.[0]
      const body = req?.body === undefined ? '' : String(req.body).slice(0, 300)
      expect.fail(
        `${req?.op.method} ${req?.url.slice(0, 300)} token=${req?.token} body=${body}\n` +
          `${(details.errorInstance as Error | undefined)?.message}\n` +
          `replay: FUZZ_SEED=${details.seed} (path ${details.counterexamplePath})`,
      )
    }
    if (verbose) console.log([...seen].sort().join('\n'))
    // The server is still up and serving.
    expect((await call(r.url, 'GET', '/healthz')).status).toBe(200)
    // The runs reached past authentication on many routes (not only 401s).
    const reached = new Set(
      [...seen.keys()].filter((k) => !/ 40[13]$/.test(k)).map((k) => k.split(' ').slice(0, 2).join(' ')),
    )
    expect(reached.size).toBeGreaterThan(RUNS >= 400 ? 30 : 5)
  }, 300_000)
})
