// The schedule trigger on the whole platform: a cron workflow (docs/workflows.md's schedule
// trigger, every minute, the shortest a five-field cron allows) fires through the
// orchestrator's own pg-boss schedule, with nothing else starting it, and its run echoes the
// firing time on an action agent. Cron fires on minute boundaries and pg-boss checks its
// schedules every 30 s, so this waits up to about 90 s: the one e2e that pays that wait.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'

let platform: Platform

beforeAll(async () => {
  platform = await startPlatform('schedule')
  const v = await platform.publish('run-command')
  await platform.enable(v.name, v.version)
  await platform.agent({ name: 'schedule-action', kind: 'action', grants: { commands: ['echo'] } })
}, 180_000)

afterAll(async () => {
  await platform?.close()
})

describe('a schedule in a workflow', () => {
  it('starts a run when its cron fires, carrying the firing time', async () => {
    const applied = Date.now()
    const { workflow } = await platform.apply(`
name: every-minute
trigger:
  schedule:
    cron: "* * * * *"
    timezone: Europe/Paris
actions:
  - id: tick
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    config: { command: echo }
    input: { args: ["fired at \${{ trigger.scheduledAt }}"] }
`)
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
    const at = (run.event.data as { scheduledAt: string }).scheduledAt
    // When pg-boss handed the firing over: after the workflow was applied, before now.
    expect(Date.parse(at)).toBeGreaterThanOrEqual(applied)
    expect(Date.parse(at)).toBeLessThanOrEqual(Date.now())
    expect(run.event).toMatchObject({ source: 'schedule', type: 'schedule.fired' })
    expect((run.steps.find((s) => s.stepId === 'tick')!.output as { stdout: string }).stdout).toBe(
      `fired at ${at}\n`,
    )
  }, 240_000)
})
