// A plugin artifact altered on its way to the agent (a compromised mirror in front of the
// registry): the agent refuses to load it, and the run fails with that reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Platform, startPlatform } from '../src/platform.ts'
import { startTamperProxy, type TamperProxy } from '../src/servers.ts'
import { postHook } from '../src/webhook.ts'

const SECRET = 'e2e-tamper-hook-secret'
let platform: Platform
let proxy: TamperProxy

beforeAll(async () => {
  platform = await startPlatform('tamper')
  proxy = await startTamperProxy(`${platform.orchestrator.operatorUrl}/api/v1/registry`)
}, 180_000)

afterAll(async () => {
  await proxy?.close()
  await platform?.close()
})

describe('tampered artifact', () => {
  it('is refused by the agent and fails the run with the reason', async () => {
    const v = await platform.publish('run-command')
    await platform.enable(v.name, v.version)
    await platform.setSecret('TAMPER_HOOK', SECRET)
    const { workflow } = await platform.apply(`
name: tampered
trigger:
  webhook: { secret: TAMPER_HOOK }
actions:
  - id: work
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    config: { command: echo, args: [hello] }
    retry: { limit: 1, backoff: fixed, delay: 1s }
`)
    const agent = await platform.agent({
      name: 'tamper-action',
      kind: 'action',
      grants: { commands: ['echo'] },
      env: { STAVILY_REGISTRY_URL: proxy.baseUrl },
    })
    await agent.child.waitForLine(
      (l) => /verif|digest|sha256|refused/i.test(l) && l.includes('plugin-run-command'),
      90_000,
    )

    const { runId } = await postHook(platform.orchestrator.operatorUrl, workflow.id, SECRET, { go: true })
    const run = await platform.waitForRun(runId!, 120_000)
    expect(run.status).toBe('failed')
    const step = run.steps.find((s) => s.stepId === 'work')!
    expect(step.status).toBe('failed')
    expect(step.error?.message, JSON.stringify(step.error)).toMatch(/verif|digest|sha256|tamper/i)
    expect(proxy.tampered.length).toBeGreaterThan(0)
    expect(agent.child.lines.some((l) => l.includes('"msg":"plugin loaded"'))).toBe(false)
  }, 240_000)
})
