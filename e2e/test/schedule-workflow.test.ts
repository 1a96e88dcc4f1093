// The schedule trigger on the whole platform: docs/workflows.md's schedule example, with its
// nightly cron made every minute (the shortest a five-field cron allows), fires through the
// orchestrator's own pg-boss schedule with nothing else starting it; its run asks `df` on an
// action agent and the `log` output writes the answer with the firing time. Cron fires on
// minute boundaries and pg-boss checks its schedules every 30 s, so this waits up to about
// 90 s: the one e2e that pays that wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentProcess } from '../src/agent.ts'
import { adapt, docExample } from '../src/docs-examples.ts'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'

let platform: Platform
let agent: AgentProcess

beforeAll(async () => {
  platform = await startPlatform('schedule')
  for (const dir of ['run-command', 'log']) {
    const v = await platform.publish(dir)
    await platform.enable(v.name, v.version)
  }
  agent = await platform.agent({ name: 'schedule-action', kind: 'action', grants: { commands: ['df'] } })
}, 180_000)

afterAll(async () => {
  await platform?.close()
})

describe('the docs schedule example', () => {
  it('starts a run when its cron fires, and logs df with the firing time', async () => {
    const applied = Date.now()
    const { workflow } = await platform.apply(
      adapt(docExample('schedule'), [['cron: "0 3 * * *"', 'cron: "* * * * *"']]),
    )
    const [started] = await waitFor(
      'a run started by the schedule',
      async () => {
        const runs = await platform.runsOf(workflow.id)
        return runs.length > 0 ? runs : undefined
      },
      { timeoutMs: 150_000, intervalMs: 1000 },
    )
    const run = await platform.waitForRun(started!.id)
    expect(run.status, platform.logs()).toBe('succeeded')
    expect(run.event).toMatchObject({ source: 'schedule', type: 'schedule.fired' })
    const at = (run.event.data as { scheduledAt: string }).scheduledAt
    // When pg-boss handed the firing over: after the workflow was applied, before now.
    expect(Date.parse(at)).toBeGreaterThanOrEqual(applied)
    expect(Date.parse(at)).toBeLessThanOrEqual(Date.now())
    const disk = run.steps.find((s) => s.stepId === 'disk')!.output as { stdout: string }
    expect(disk.stdout).toMatch(/\d+%/)
    await agent.child.waitForLine((line) => line.includes(`disk check of ${at}`), 30_000)
  }, 240_000)
})
