// kill -9 the orchestrator while a run's action is in flight, start it again on the same
// database: the run completes, the action ran once, the output reported once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Receiver, startReceiver } from '../src/demo.ts'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'
import { type Gate, startGate } from '../src/servers.ts'
import { postHook } from '../src/webhook.ts'

const SECRET = 'e2e-crash-hook-secret'
let platform: Platform
let gate: Gate
let receiver: Receiver

beforeAll(async () => {
  platform = await startPlatform('crash')
  gate = await startGate()
  receiver = await startReceiver()
}, 180_000)

afterAll(async () => {
  await receiver?.child.stop()
  await gate?.close()
  await platform?.close()
})

describe('orchestrator crash mid-run', () => {
  it('completes the run after a restart, with nothing lost and nothing done twice', async () => {
    for (const dir of ['run-command', 'webhook']) {
      const v = await platform.publish(dir)
      await platform.enable(v.name, v.version)
    }
    await platform.setSecret('CRASH_HOOK', SECRET)
    const { workflow } = await platform.apply(`
name: crash
trigger:
  webhook: { secret: CRASH_HOOK }
actions:
  - id: work
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    config: { command: curl, args: ["-sf", "${gate.url}/work"] }
    timeout: 2m
outputs:
  - id: notify
    plugin: "@stavily/plugin-webhook"
    version: ^0.1.0
    on: always
    config: { url: "${receiver.url}/crash" }
    input: { text: "run \${{ run.id }} \${{ run.status }}" }
`)
    const agent = await platform.agent({
      name: 'crash-action',
      kind: 'action',
      grants: { commands: ['curl'], hosts: ['127.0.0.1'] },
    })
    await waitFor('both plugins loaded', () =>
      agent.child.lines.filter((l) => l.includes('plugin loaded')).length >= 2 ? true : undefined,
    )

    const { runId } = await postHook(platform.orchestrator.operatorUrl, workflow.id, SECRET, { job: 'crash' })
    await gate.waitForRequests(1)
    await platform.crashOrchestrator()
    // The action finishes while the orchestrator is gone: the agent keeps its result in the
    // outbox and delivers it once the orchestrator is back.
    gate.open()

    const run = await platform.waitForRun(runId!, 120_000)
    expect(run.status, platform.logs()).toBe('succeeded')
    expect(run.steps.map((s) => [s.stepId, s.status, s.attempt])).toEqual([
      ['work', 'succeeded', 1],
      ['notify', 'succeeded', 1],
    ])
    await waitFor('the notification', () => (receiver.received().length >= 1 ? true : undefined))
    expect(gate.requests).toEqual(['/work'])
    const notes = receiver.received().filter((r) => JSON.stringify(r.received).includes(runId!))
    expect(notes).toHaveLength(1)
    expect((await platform.runsOf(workflow.id)).map((r) => r.id)).toEqual([runId])
    // The audit chain the killed process was appending to is still whole.
    expect(await platform.api.get('/audit/verify')).toMatchObject({ ok: true })
  }, 240_000)
})
