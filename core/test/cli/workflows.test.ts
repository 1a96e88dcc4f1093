import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type Running, setups } from '../helpers/harness.ts'
import { cli, cliOnTerminal, freshConfig } from './cli-process.ts'
import { signedHook, WORKFLOW_INVALID, WORKFLOW_V1, WORKFLOW_V2, writeFiles } from './fixtures.ts'

// `stavily` as a user runs it, against a real orchestrator (PGlite in memory, loopback
// HTTP): log in, apply, read, diff, dry-run, refuse a broken document with its line,
// secrets, agents, runs from a signed webhook, watch and cancel, the audit chain.

const setup = setups({ postgres: false })[0]!
const HOOK_SECRET = 'hook-secret-value-4f1a'
let r: Running
let env: Record<string, string>
let dir: string
let workflowId: string

const stavily = (args: string[], input?: string) =>
  cli(args, { env, cwd: dir, ...(input !== undefined ? { input } : {}) })

beforeAll(async () => {
  await setup.prepare()
  r = await setup.start()
  env = { STAVILY_CONFIG: freshConfig() }
  dir = writeFiles({ 'wf.yaml': WORKFLOW_V1, 'wf2.yaml': WORKFLOW_V2, 'broken.yaml': WORKFLOW_INVALID })
})

afterAll(async () => {
  await setup.cleanup()
})

describe('stavily against an orchestrator', () => {
  it('logs in with the token on standard input', async () => {
    const bad = await stavily(['login', '--url', r.operatorUrl], 'stv_admin_not-a-real-token\n')
    expect(bad.code).toBe(3)
    expect(bad.stderr).toContain('refused this token')
    const ok = await stavily(['login', '--url', r.operatorUrl], `${r.admin}\n`)
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain(`logged in to ${r.operatorUrl}`)
    expect(ok.stdout).not.toContain(r.admin)
  })

  it('applies a workflow: created, then unchanged', async () => {
    const first = await stavily(['workflow', 'apply', 'wf.yaml'])
    expect(first.code).toBe(0)
    // The plugins are not enabled in pool web: applied, with a warning saying so.
    expect(first.stderr).toMatch(/^warning: step restart: plugin @acme\/restart/m)
    expect(first.stdout).toContain('workflow cli-restart created (version 1)')
    expect(first.stdout).toMatch(/webhook: POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/hooks\//)
    const again = await stavily(['workflow', 'apply', 'wf.yaml', '--json'])
    expect(again.code).toBe(0)
    const body = JSON.parse(again.stdout)
    expect(body).toMatchObject({ version: 1, changed: false, workflow: { name: 'cli-restart' } })
    workflowId = body.workflow.id
  })

  it('lists and gets workflows; --json parses', async () => {
    const list = await stavily(['workflow', 'list'])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/^NAME +VERSION +ENABLED +TRIGGER/)
    expect(list.stdout).toMatch(/cli-restart +1 +yes +webhook/)
    const json = JSON.parse((await stavily(['workflow', 'list', '--json'])).stdout)
    expect(json.items.map((w: { name: string }) => w.name)).toEqual(['cli-restart'])
    const get = await stavily(['workflow', 'get', 'cli-restart'])
    expect(get.code).toBe(0)
    expect(get.stdout).toBe(WORKFLOW_V1)
  })

  it('diff shows what applying a changed file would change', async () => {
    const same = await stavily(['workflow', 'diff', 'wf.yaml', '--exit-code'])
    expect(same.code).toBe(0)
    expect(same.stderr).toContain('no differences with version 1')
    const d = await stavily(['workflow', 'diff', 'wf2.yaml'])
    expect(d.code).toBe(0)
    expect(d.stdout).toContain('--- cli-restart (version 1, on the server)\n+++ wf2.yaml\n')
    expect(d.stdout).toMatch(/^- {4}version: \^1\.0\.0$/m)
    expect(d.stdout).toMatch(/^\+ {4}version: \^1\.2\.0$/m)
    expect(d.stdout).toMatch(/^\+ {4}timeout: 2m$/m)
    expect(d.stdout).toMatch(/^@@ -\d+,\d+ \+\d+,\d+ @@$/m)
    expect((await stavily(['workflow', 'diff', 'wf2.yaml', '--exit-code'])).code).toBe(1)

    const applied = await stavily(['workflow', 'apply', 'wf2.yaml'])
    expect(applied.stdout).toContain('workflow cli-restart updated (version 2)')
    const old = await stavily(['workflow', 'get', 'cli-restart', '--version', '1'])
    expect(old.stdout).toBe(WORKFLOW_V1)
  })

  it('dry-run shows what would run with which input, and when the filter says no', async () => {
    const yes = await stavily([
      'workflow',
      'dry-run',
      'wf.yaml',
      '--event',
      '{"data": {"severity": "critical", "service": "nginx"}}',
    ])
    expect(yes.stderr).toContain('nothing was run')
    expect(yes.code).toBe(0)
    expect(yes.stdout).toContain('trigger: would start a run')
    expect(yes.stdout).toMatch(/restart +@acme\/restart@\^1\.0\.0 +web +run +\{"service":"nginx"\}/)
    expect(yes.stdout).toMatch(/notify +@acme\/notify@\^1\.0\.0 +web/)
    const no = await stavily([
      'workflow',
      'dry-run',
      'wf.yaml',
      '--event',
      '{"data": {"severity": "info"}}',
      '--json',
    ])
    expect(no.code).toBe(0)
    expect(JSON.parse(no.stdout)).toMatchObject({ triggered: false })
    const badEvent = await stavily(['workflow', 'dry-run', 'wf.yaml', '--event', '{"severity": "info"'])
    expect(badEvent.code).toBe(2)
    expect(badEvent.stderr).toContain('--event: expected JSON')
  })

  it('refuses an invalid document with exit 1 and FILE:LINE:COLUMN', async () => {
    const res = await stavily(['workflow', 'apply', 'broken.yaml'])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/broken\.yaml:11:\d+: actions\[0\]\.retry\.limit: /)
    expect(res.stderr).toContain('broken.yaml: the workflow is invalid (1 problem)')
    expect((await stavily(['workflow', 'list', '--json'])).stdout).not.toContain('cli-broken')
  })

  it('sets a secret from standard input without ever printing it', async () => {
    const set = await stavily(['secret', 'set', 'HOOK_SECRET'], `${HOOK_SECRET}\n`)
    expect(set.code).toBe(0)
    expect(set.stdout).toContain('secret HOOK_SECRET created')
    const again = await stavily(['secret', 'set', 'HOOK_SECRET', '--json'], `${HOOK_SECRET}\n`)
    expect(JSON.parse(again.stdout)).toMatchObject({ name: 'HOOK_SECRET', created: false })
    const list = await stavily(['secret', 'list', '--json'])
    for (const out of [set, again, list]) expect(out.stdout + out.stderr).not.toContain(HOOK_SECRET)
    expect(list.stdout).toContain('HOOK_SECRET')
    // On a terminal the value is asked for, and what is typed is not echoed.
    const typed = await cliOnTerminal(['secret', 'set', 'TYPED_SECRET'], {
      env,
      cwd: dir,
      prompt: 'value of TYPED_SECRET: ',
      answer: 'typed-value-93kq',
    })
    expect(typed.code).toBe(0)
    expect(typed.stdout).toContain('secret TYPED_SECRET created')
    expect(typed.stdout).not.toContain('typed-value-93kq')
    expect((await stavily(['secret', 'list'])).stdout).toMatch(/^TYPED_SECRET +/m)
    const badName = await stavily(['secret', 'set', 'lower'], 'x')
    expect(badName.code).toBe(2)
  })

  it('mints an enrollment token (only the token on stdout) and lists agents', async () => {
    const t = await stavily([
      'agent',
      'token',
      '--kind',
      'action',
      '--pool',
      'web',
      '--labels',
      'region=eu',
      '--ttl',
      '1h',
    ])
    expect(t.code).toBe(0)
    const token = t.stdout.trim()
    expect(token).not.toContain('\n')
    expect(t.stderr).toContain('enrollment token for action agents of pool web')
    const reg = await call(r.url, 'POST', '/agents/v1/register', {
      body: { enrollmentToken: token, name: 'web-1' },
    })
    expect(reg.status).toBe(201)
    const list = await stavily(['agent', 'list'])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/web-1 +action +web/)
    const badKind = await stavily(['agent', 'token', '--kind', 'robot', '--pool', 'web'])
    expect(badKind.code).toBe(2)
    expect(badKind.stderr).toContain('--kind: expected sensor or action, got "robot"')
  })

  it('lists and shows runs; watch and cancel of a finished run say it ended', async () => {
    // The plugins are not enabled: the run fails at once, and says why per step.
    const hook = await signedHook(r.operatorUrl, workflowId, HOOK_SECRET, {
      severity: 'critical',
      service: 'nginx',
    })
    expect(hook.status).toBe(202)
    const runId = hook.body.runId!
    expect(runId).toBeTruthy()

    const list = await stavily(['run', 'list', '--workflow', 'cli-restart'])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(/^ID +STATUS +WORKFLOW +VERSION +CREATED +DURATION$/m)
    expect(list.stdout).toMatch(new RegExp(`${runId} +[a-z_]+ +cli-restart +2 `))
    const runs = JSON.parse((await stavily(['run', 'list', '--status', 'failed', '--json'])).stdout)
    expect(runs.items.map((x: { id: string }) => x.id)).toContain(runId)

    const get = await stavily(['run', 'get', runId])
    expect(get.code).toBe(0)
    expect(get.stdout).toContain(`run ${runId}: failed`)
    expect(get.stdout).toContain('workflow: cli-restart (version 2)')
    expect(get.stdout).toMatch(/^STEP +KIND +STATUS +ATTEMPT +DURATION +ERROR \/ REASON$/m)
    expect(get.stdout).toMatch(/^restart +action +failed +0 +- +STAVILY_ERR_PLUGIN_NOT_ENABLED: /m)

    const watch = await stavily(['run', 'watch', runId])
    expect(watch.code).toBe(1)
    expect(watch.stdout).toMatch(/run failed/)
    const cancel = await stavily(['run', 'cancel', runId])
    expect(cancel.code).toBe(1)
    expect(cancel.stderr).toContain(`error: run ${runId}: already failed`)

    const missing = await stavily(['run', 'get', randomUUID()])
    expect(missing.code).toBe(4)
  })

  it('verifies the audit chain', async () => {
    const v = await stavily(['audit', 'verify'])
    expect(v.code).toBe(0)
    expect(v.stdout).toMatch(/audit chain intact: \d+ entries verified/)
    expect(JSON.parse((await stavily(['audit', 'verify', '--json'])).stdout)).toMatchObject({ ok: true })
  })

  it('token create/list/revoke: a viewer may read but not change (exit 3), a revoked token nothing', async () => {
    const created = await stavily(['token', 'create', '--name', 'ro', '--role', 'viewer'])
    expect(created.code).toBe(0)
    const token = created.stdout.trim()
    expect(token).toMatch(/^stv_api_\S+$/)
    expect(created.stderr).toContain('viewer token "ro"')
    const viewer = { STAVILY_CONFIG: env.STAVILY_CONFIG!, STAVILY_TOKEN: token }
    const read = await cli(['workflow', 'list'], { env: viewer })
    expect(read.code).toBe(0)
    const write = await cli(['workflow', 'apply', join(dir, 'wf.yaml')], { env: viewer })
    expect(write.code).toBe(3)
    expect(write.stderr).toContain('forbidden')
    expect(write.stderr).toContain('operator token')

    const list = await stavily(['token', 'list'])
    const id = /^(\S+) +ro +viewer +/m.exec(list.stdout)?.[1]
    expect(id).toBeTruthy()
    const revoked = await stavily(['token', 'revoke', id!])
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toContain(`token ro (${id}) revoked`)
    const after = await cli(['workflow', 'list'], { env: viewer })
    expect(after.code).toBe(3)
    expect(after.stderr).toContain('stavily login')
  })

  it('workflow versions, run list --since, agent drain, secret delete', async () => {
    const versions = await stavily(['workflow', 'versions', 'cli-restart'])
    expect(versions.code).toBe(0)
    expect(versions.stdout).toMatch(/^VERSION +CREATED +BY\n1 +.*\n2 +/m)
    const recent = JSON.parse((await stavily(['run', 'list', '--since', '1h', '--json'])).stdout)
    expect(recent.items.length).toBeGreaterThan(0)
    const future = JSON.parse((await stavily(['run', 'list', '--since', '2999-01-01', '--json'])).stdout)
    expect(future.items).toEqual([])
    expect((await stavily(['run', 'list', '--limit', '0'])).code).toBe(2)

    const agents = JSON.parse((await stavily(['agent', 'list', '--json'])).stdout)
    const id = agents.items[0].id
    const drained = await stavily(['agent', 'drain', id])
    expect(drained.code).toBe(0)
    expect(drained.stdout).toContain('draining: no new work')
    expect((await stavily(['agent', 'drain', id, '--undo'])).stdout).toContain('takes work again')

    const del = await stavily(['secret', 'delete', 'TYPED_SECRET'])
    expect(del.code).toBe(0)
    expect((await stavily(['secret', 'list'])).stdout).not.toContain('TYPED_SECRET')
    expect((await stavily(['secret', 'delete', 'TYPED_SECRET'])).code).toBe(4)
    // Twelve CLI processes, each a Node start: about 27 s on a loaded 2-core machine.
  }, 90_000)

  it('audit verify exits 1 and names the first broken link once a row is edited', async () => {
    await r.o.services.db.sql.query(`UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = 2`)
    const v = await stavily(['audit', 'verify'])
    expect(v.code).toBe(1)
    expect(v.stdout).toMatch(/^audit chain BROKEN at entry 2: edited \(entry 2 does not match its hash/m)
    const json = await stavily(['audit', 'verify', '--json'])
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, firstBroken: { seq: 2, reason: 'edited' } })
  })

  it('prints no colour codes when the output is not a terminal', async () => {
    const out = await stavily(['run', 'list'])
    expect(out.stdout).toMatch(/failed/)
    expect(out.stdout + out.stderr).not.toContain('\x1b[')
  })
})
