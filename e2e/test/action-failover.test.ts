// kill -9 an action agent in the middle of an action: its lease runs out and the
// instruction is retried on the second action agent of the pool; the run succeeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentProcess } from '../src/agent.ts'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'
import { type Gate, startGate } from '../src/servers.ts'
import { postHook } from '../src/webhook.ts'

const SECRET = 'e2e-failover-hook-secret'
let platform: Platform
let gate: Gate

beforeAll(async () => {
  // A short lease: a dead agent's work moves on within seconds instead of the default 30.
  platform = await startPlatform('failover', { orchestratorEnv: { STAVILY_LEASE_TTL_MS: '4000' } })
  gate = await startGate()
  // The first request (the attempt on the agent about to die) is held; the retry is answered.
  gate.holdFirst(1)
}, 180_000)

afterAll(async () => {
  await gate?.close()
  await platform?.close()
})

describe('action agent failover', () => {
  it('retries the instruction on a second action agent when the first is killed mid-action', async () => {
    const plugin = await platform.publish('run-command')
    await platform.enable(plugin.name, plugin.version)
    await platform.setSecret('FAILOVER_HOOK', SECRET)
    const { workflow } = await platform.apply(`
name: failover
trigger:
  webhook: { secret: FAILOVER_HOOK }
actions:
  - id: work
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    config: { command: curl, args: ["-sf", "${gate.url}/work"] }
    timeout: 2m
    retry: { limit: 3, backoff: fixed, delay: 1s }
`)
    const grants = { commands: ['curl'] }
    const agents: AgentProcess[] = [
      await platform.agent({ name: 'action-a', kind: 'action', grants }),
      await platform.agent({ name: 'action-b', kind: 'action', grants }),
    ]
    for (const a of agents) await a.child.waitForLine((l) => l.includes('plugin loaded'), 90_000)

    const { runId } = await postHook(platform.orchestrator.operatorUrl, workflow.id, SECRET, { job: 1 })
    expect(runId).toBeTruthy()
    await gate.waitForRequests(1)
    const holder = await waitFor('the agent running the action', () =>
      agents.find((a) => a.child.lines.some((l) => l.includes('instruction started'))),
    )
    const other = agents.find((a) => a !== holder)!
    await holder.kill9()

    const run = await platform.waitForRun(runId!, 120_000)
    expect(run.status, platform.logs()).toBe('succeeded')
    const step = run.steps.find((s) => s.stepId === 'work')!
    expect(step.attempt).toBeGreaterThanOrEqual(2)
    expect(gate.requests.length).toBeGreaterThanOrEqual(2)
    expect(other.child.lines.some((l) => l.includes('instruction succeeded'))).toBe(true)
    const instruction = await platform.api.get<{ agentId: string; status: string }>(
      `/instructions/${step.instructionId}`,
    )
    const otherId = other.child.lines
      .map((l) => /"agentId":"([0-9a-f-]{36})"/.exec(l)?.[1])
      .find((id) => id !== undefined)
    expect(instruction.agentId).toBe(otherId)
  }, 240_000)
})
