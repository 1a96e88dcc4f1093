// The agent as it is installed: dist/agent.js and dist/sandbox-host.js, bundled with their
// dependencies (see tsup.config.ts), started through the bin's #! line. The other agent
// tests run from source; this one proves the bundle works: enrollment, a plugin downloaded
// through the TUF client (whose unused default fetcher is stubbed out of the bundle),
// verified, loaded in the bundled sandbox host, and an instruction run and reported.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

vi.setConfig({ testTimeout: 120_000 })

import { type AgentProcess, BUILT_AGENT, startAgent } from './helpers/agent-process.ts'
import {
  call,
  ECHO_PERMISSIONS,
  echoSource,
  enqueue,
  type Platform,
  platform,
  setups,
  until,
} from './helpers/platform.ts'

const ECHO = '@acme/stavily-plugin-echo'
// The packaging is the same whatever the orchestrator stores its state in: one setup.
const setup = setups({ postgres: false })[0]!

describe('the built stavily-agent bin', () => {
  let p: Platform
  let a: AgentProcess | undefined

  beforeAll(async () => {
    if (!existsSync(BUILT_AGENT)) throw new Error(`${BUILT_AGENT} is missing: run npm run build first`)
    await setup.prepare()
    p = await platform(await setup.start())
    await p.publish(ECHO, '1.0.0', echoSource('1'), { permissions: ECHO_PERMISSIONS })
    await p.enable('web', ECHO, '1.0.0')
  }, 120_000)

  afterAll(async () => {
    await a?.stop('SIGKILL')
    await p?.close()
    await setup.cleanup()
  })

  it('enrolls, downloads and verifies a plugin, runs an instruction in it, and stops cleanly', async () => {
    a = startAgent(
      [
        '--orchestrator',
        p.r.url,
        '--registry',
        p.registryUrl,
        '--data-dir',
        join(p.root, 'built'),
        '--enrollment-token',
        await p.token('action', 'web'),
        '--allow-command',
        'sleep',
      ],
      {},
      { built: true },
    )
    await a.waitForLog((l) => l.msg === 'plugin loaded' && l.plugin === ECHO, 60_000, 'plugin loaded')
    expect(a.logs.find((l) => l.msg === 'plugin downloaded and verified')).toMatchObject({ plugin: ECHO })

    const { id } = await enqueue(p.r, { pool: 'web', plugin: ECHO, input: { msg: 'bundled', sleepMs: 100 } })
    const done = await until(
      async () => {
        const res = await call(p.r.operatorUrl, 'GET', `/api/v1/instructions/${id}`, { token: p.r.admin })
        return res.body.status === 'succeeded' ? res.body : undefined
      },
      30_000,
      'instruction succeeded',
    )
    expect(done.output).toMatchObject({ version: '1', echo: 'bundled', key: id })
    expect((await a.stop('SIGTERM')).code).toBe(0)
    expect(a.stderr).toBe('')
  })
})
