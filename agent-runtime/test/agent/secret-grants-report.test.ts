// The real agent reports the secrets its operator granted (issue 12, item 11), so the
// orchestrator can send it only declared ∩ granted: at enrollment, and with its heartbeats.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Running, setups } from '@stavily/core/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { type AgentProcess, startAgent } from './helpers/agent-process.ts'
import { call, until } from './helpers/platform.ts'

vi.setConfig({ testTimeout: 120_000 })

describe.each(setups())('secret grants reported by the agent on $name', (setup) => {
  let r: Running
  const agents: AgentProcess[] = []
  const roots: string[] = []

  beforeAll(async () => {
    await setup.prepare()
    r = await setup.start()
  }, 120_000)
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL')
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
  })
  afterAll(() => setup.cleanup())

  it('sends its global and per-plugin secret grants when it enrolls', async () => {
    const root = mkdtempSync(join(tmpdir(), 'stavily-grants-'))
    roots.push(root)
    const configFile = join(root, 'agent.json')
    writeFileSync(
      configFile,
      JSON.stringify({ plugins: { '@acme/restart': { grants: { secrets: ['RESTART_TOKEN'] } } } }),
    )
    const et = await call(r.operatorUrl, 'POST', '/api/v1/enrollment-tokens', {
      token: r.admin,
      body: { kind: 'action', pool: 'grants' },
    })
    agents.push(
      startAgent([
        '--orchestrator',
        r.url,
        '--registry',
        `${r.operatorUrl}/api/v1/registry`,
        '--data-dir',
        join(root, 'data'),
        '--name',
        'grants-agent',
        '--enrollment-token',
        et.body.token,
        '--config',
        configFile,
        '--allow-secret',
        'SHARED_TOKEN',
      ]),
    )
    // The agent's row exists once it enrolled: the grants came with the enrollment.
    const row = await until(
      async () =>
        (
          await r.o.services.db.sql.query<{ g: unknown }>(
            "SELECT secret_grants AS g FROM agents WHERE name = 'grants-agent'",
          )
        ).rows[0],
      60_000,
      'agent enrolled',
    )
    const grants = row.g
    expect(grants).toEqual({ all: ['SHARED_TOKEN'], plugins: { '@acme/restart': ['RESTART_TOKEN'] } })
  })
})
