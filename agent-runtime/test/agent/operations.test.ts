// The agent in operation, as a real process against a real orchestrator: its local health
// listener (/healthz, /readyz, /metrics checked by promtool), its own plugin allow list
// refusing what the orchestrator asks for, and credential self-rotation across kill -9.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'

// Agent processes and their sandbox hosts on a shared 2-core box: generous time, no timing assertions.
vi.setConfig({ testTimeout: 180_000 })

import { type AgentProcess, startAgent } from './helpers/agent-process.ts'
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

/** promtool ships with the Debian prometheus package (.ci/run installs it). */
function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (r.error) throw new Error(`promtool: ${r.error.message} (install the prometheus package)`)
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

/** Sample value of one series in Prometheus text, by metric name and a label substring. */
function sample(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue
    if (labels && !rest.includes(labels)) continue
    return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

describe.each(setups())('the agent in operation on $name', (setup) => {
  let p: Platform
  const agents: AgentProcess[] = []

  beforeAll(async () => {
    await setup.prepare()
    p = await platform(await setup.start())
    await p.publish(ECHO, '1.0.0', echoSource('1'), { permissions: ECHO_PERMISSIONS })
    await p.enable('ops', ECHO, '1.0.0')
  }, 120_000)

  // A failed test must not leave agents leasing the next tests' instructions.
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop('SIGKILL')
  })

  afterAll(async () => {
    await p?.close()
    await setup.cleanup()
  })

  function agent(dataDir: string, extra: string[] = []): AgentProcess {
    const a = startAgent([
      '--orchestrator',
      p.r.url,
      '--registry',
      p.registryUrl,
      '--data-dir',
      dataDir,
      '--allow-command',
      'sleep',
      ...extra,
    ])
    agents.push(a)
    return a
  }

  async function listening(a: AgentProcess): Promise<string> {
    const l = await a.waitForLog((l) => l.msg === 'health listener started', 30_000, 'health listener')
    return `http://${l.address}`
  }

  const instruction = async (id: string) =>
    (await call(p.r.operatorUrl, 'GET', `/api/v1/instructions/${id}`, { token: p.r.admin })).body

  it('serves /healthz, /readyz and Prometheus /metrics that promtool accepts', async () => {
    const a = agent(join(p.root, 'health'), [
      '--enrollment-token',
      await p.token('action', 'ops'),
      '--health-listen',
      '127.0.0.1:0',
    ])
    const base = await listening(a)
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    const ready = await until(
      async () => {
        const res = await fetch(`${base}/readyz`)
        return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined
      },
      60_000,
      'ready',
    )
    expect(ready).toMatchObject({ status: 'ready', reasons: [], plugins: [{ name: ECHO, state: 'loaded' }] })

    const { id } = await enqueue(p.r, { pool: 'ops', plugin: ECHO, input: { msg: 'counted' } })
    await until(async () => (await instruction(id)).status === 'succeeded', 30_000, 'instruction succeeded')

    // The sandbox host is the agent's child: kill it, and the supervisor's restart is counted.
    const pid = a.child.pid!
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)
    expect(children.length).toBeGreaterThan(0)
    for (const c of children) process.kill(Number(c), 'SIGKILL')
    const text = await until(
      async () => {
        const t = await (await fetch(`${base}/metrics`)).text()
        return (sample(t, 'stavily_agent_sandbox_restarts_total') ?? 0) >= 1 ? t : undefined
      },
      60_000,
      'sandbox restart counted',
    )
    const res = await fetch(`${base}/metrics`)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(sample(text, 'stavily_agent_plugin_calls_total', `plugin="${ECHO}",outcome="ok"`)).toBe(1)
    expect(sample(text, 'stavily_agent_plugin_call_duration_seconds_count', `plugin="${ECHO}"`)).toBe(1)
    expect(sample(text, 'stavily_agent_plugin_call_duration_seconds_bucket', 'le="+Inf"')).toBe(1)
    expect(sample(text, 'stavily_agent_outbox_entries')).toBe(0)
    expect(sample(text, 'stavily_agent_outbox_quarantined')).toBe(0)
    expect(sample(text, 'stavily_agent_plugin_state', 'state="loaded"')).toBe(1)
    expect(sample(text, 'stavily_agent_plugin_sync_last_success_timestamp_seconds')).toBeGreaterThan(0)
    expect(sample(text, 'stavily_agent_sandbox_resident_memory_bytes')).toBeGreaterThan(1_000_000)
    const check = promtoolCheck(text)
    expect(check, check.output).toMatchObject({ status: 0 })
    // A broken exposition is what promtool is here to catch.
    expect(promtoolCheck('stavily_agent_ready{ 1\n').status).not.toBe(0)

    expect((await fetch(`${base}/nope`)).status).toBe(404)
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405)
    expect((await a.stop('SIGTERM')).code).toBe(0)
  })

  it('refuses a plugin outside its allow list: not loaded, /readyz says why, its instructions fail with the code', async () => {
    const a = agent(join(p.root, 'policy'), [
      '--enrollment-token',
      await p.token('action', 'ops'),
      '--health-listen',
      '127.0.0.1:0',
      // The orchestrator asks for 1.0.0; this agent allows only 2.x of it.
      '--allow-plugin',
      `${ECHO}@^2.0.0`,
    ])
    const base = await listening(a)
    const refused = await a.waitForLog(
      (l) => l.msg === 'plugin not loaded: outside the local policy',
      60_000,
      'policy refusal logged',
    )
    expect(refused).toMatchObject({
      plugin: ECHO,
      version: '1.0.0',
      code: 'STAVILY_ERR_AGENT_PLUGIN_NOT_ALLOWED',
    })
    const res = await fetch(`${base}/readyz`)
    expect(res.status).toBe(503)
    const body = (await res.json()) as { reasons: string[]; plugins: unknown[] }
    expect(body.reasons.join('\n')).toMatch(
      /STAVILY_ERR_AGENT_PLUGIN_NOT_ALLOWED.*outside the versions this agent allows/,
    )
    expect(body.plugins).toEqual([{ name: ECHO, version: '1.0.0', state: 'not_allowed' }])
    expect(a.count((l) => l.msg === 'plugin loaded')).toBe(0)

    const { id } = await enqueue(p.r, { pool: 'ops', plugin: ECHO, input: { msg: 'refused' } })
    const failed = await until(
      async () => {
        const i = await instruction(id)
        return i.status === 'failed' || i.status === 'dead' ? i : undefined
      },
      60_000,
      'instruction failed',
    )
    expect(failed.error).toMatchObject({ code: 'STAVILY_ERR_AGENT_PLUGIN_NOT_ALLOWED', retryable: false })
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(sample(metrics, 'stavily_agent_plugin_state', 'state="not_allowed"')).toBe(1)
    expect(sample(metrics, 'stavily_agent_ready')).toBe(0)
  })

  it('rotates its credential before expiry and keeps working with it after kill -9 and a restart', async () => {
    const dataDir = join(p.root, 'rotate')
    const credentialFile = join(dataDir, 'credential.json')
    const stored = () => JSON.parse(readFileSync(credentialFile, 'utf8')) as { credential: string }
    const a = agent(dataDir, [
      '--enrollment-token',
      await p.token('action', 'ops'),
      // Rotated 2 s after it was issued.
      '--credential-lifetime-ms',
      '3000',
      '--credential-rotate-margin-ms',
      '1000',
    ])
    await a.waitForLog((l) => l.msg === 'enrolled', 60_000, 'enrolled')
    const first = stored().credential
    await a.waitForLog((l) => l.msg === 'credential rotated', 60_000, 'credential rotated')
    await a.stop('SIGKILL')
    const current = stored().credential
    expect(current).not.toBe(first)
    const agentApi = (credential: string) =>
      fetch(`${p.r.url}/agents/v1/plugins`, { headers: { authorization: `Bearer ${credential}` } })
    expect((await agentApi(first)).status).toBe(401)
    expect((await agentApi(current)).status).toBe(200)

    // Restarted with the default lifetime: it starts from the stored (rotated) credential.
    const b = agent(dataDir)
    await b.waitForLog((l) => l.msg === 'starting with the stored credential', 60_000, 'restarted')
    const { id } = await enqueue(p.r, { pool: 'ops', plugin: ECHO, input: { msg: 'after rotation' } })
    const done = await until(
      async () => {
        const i = await instruction(id)
        return i.status === 'succeeded' ? i : undefined
      },
      60_000,
      'instruction succeeded after the restart',
    )
    expect(done.output).toMatchObject({ echo: 'after rotation' })
    expect(stored().credential).toBe(current)
    expect(b.count((l) => l.msg === 'credential rotated')).toBe(0)
    expect((await b.stop('SIGTERM')).code).toBe(0)
  })
})
