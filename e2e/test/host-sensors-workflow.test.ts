// The host sensors in workflows, on this machine, with plugins published from the git daemon.
// host-metrics: this host's real memory use, over a threshold set just below it, starts a run.
// log-file: a sensor agent tails a real file, and each matching line starts one run.
// The sensor agent is stopped while a line is written and the file is rotated (renamed, a
// new one begun); started again on its data folder, it goes on from where it stopped: the
// line written while it was down and the line of the new file start a run each, and no
// earlier line starts a second one.
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startAgent } from '../src/agent.ts'
import { waitFor } from '../src/net.ts'
import { type Platform, type Run, startPlatform } from '../src/platform.ts'

let platform: Platform
// The plugin's manifest leaves the paths to the operator: the sensor agent grants this folder.
let logDir: string

beforeAll(async () => {
  platform = await startPlatform('hostsensors')
  logDir = mkdtempSync(join(tmpdir(), 'stavily-e2e-log-file-'))
  // host-metrics runs in a pool of its own, so the log-file sensor agent does not run it
  // (nor the reverse); the actions run on one action agent in the default pool.
  for (const dir of ['host-metrics', 'log-file', 'run-command']) {
    const v = await platform.publish(dir)
    await platform.enable(v.name, v.version, dir === 'host-metrics' ? 'hosts' : 'default')
  }
  await platform.agent({ name: 'host-action', kind: 'action', grants: { commands: ['echo'] } })
}, 180_000)

afterAll(async () => {
  await platform?.close()
  if (logDir) rmSync(logDir, { recursive: true, force: true })
})

const codesOf = (runs: Run[]) =>
  runs.map((r) => (r.event.data as { groups: { code: string } }).groups.code).sort()

/** Memory in use now, percent, as host-metrics computes it (MemTotal - MemAvailable). */
function memoryPercent(): number {
  const meminfo = readFileSync('/proc/meminfo', 'utf8')
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(meminfo)![1])
  return ((kb('MemTotal') - kb('MemAvailable')) / kb('MemTotal')) * 100
}

describe('host-metrics in a workflow', () => {
  it("starts a run when this host's memory use is over the threshold, and only one", async () => {
    const threshold = Math.max(0, Math.floor(memoryPercent()) - 3)
    const { workflow } = await platform.apply(`
name: memory-pressure
trigger:
  sensor:
    plugin: "@stavily/plugin-host-metrics"
    version: ^0.1.0
    pool: hosts
    interval: 1s
    config:
      name: e2e-host
      thresholds: { memoryPercent: ${threshold} }
    filter: event.type == 'host-metrics.threshold'
actions:
  - id: react
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    config: { command: echo }
    input: { args: ["\${{ trigger.name }} memory \${{ trigger.metric }} over \${{ trigger.threshold }}"] }
`)
    await platform.agent({
      name: 'host-sensor',
      kind: 'sensor',
      pool: 'hosts',
      grants: { read: ['/proc/stat', '/proc/meminfo', '/proc/loadavg'] },
    })
    const [started] = await waitFor(
      'a run of memory-pressure',
      async () => {
        const runs = await platform.runsOf(workflow.id)
        return runs.length > 0 ? runs : undefined
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    )
    const run = await platform.waitForRun(started!.id)
    expect(run.status, platform.logs()).toBe('succeeded')
    expect(run.event.data).toMatchObject({ name: 'e2e-host', metric: 'memoryPercent', threshold, unit: '%' })
    expect((run.event.data as { value: number }).value).toBeGreaterThan(threshold)
    expect((run.steps.find((s) => s.stepId === 'react')!.output as { stdout: string }).stdout).toBe(
      `e2e-host memory memoryPercent over ${threshold}\n`,
    )
    // Still over: one episode, one run.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    expect(await platform.runsOf(workflow.id)).toHaveLength(1)
  }, 300_000)
})

describe('log-file in a workflow', () => {
  it('starts one run per matching line, across an agent restart and a rotation', async () => {
    const log = join(logDir, 'app.log')
    writeFileSync(log, '')
    const { workflow } = await platform.apply(`
name: on-log-error
trigger:
  sensor:
    plugin: "@stavily/plugin-log-file"
    version: ^0.1.0
    interval: 1s
    config:
      path: "${log}"
      pattern: "ERROR (?<code>E\\\\d+)"
      startAt: beginning
actions:
  - id: react
    plugin: "@stavily/plugin-run-command"
    version: ^0.1.0
    config: { command: echo }
    input: { args: ["\${{ trigger.groups.code }} at line \${{ trigger.lineNumber }}"] }
`)
    const sensor = await platform.agent({ name: 'log-sensor', kind: 'sensor', grants: { read: [logDir] } })
    const runsAtLeast = (n: number) =>
      waitFor(
        `${n} run(s) of on-log-error`,
        async () => {
          const runs = await platform.runsOf(workflow.id)
          return runs.length >= n ? runs : undefined
        },
        { timeoutMs: 90_000, intervalMs: 500 },
      )

    appendFileSync(log, 'INFO started\nERROR E1 disk full\n')
    const [first] = await runsAtLeast(1)
    const run = await platform.waitForRun(first!.id)
    expect(run.status, platform.logs()).toBe('succeeded')
    expect(run.event.data).toMatchObject({ path: log, line: 'ERROR E1 disk full', lineNumber: 2 })
    expect((run.steps.find((s) => s.stepId === 'react')!.output as { stdout: string }).stdout).toBe(
      'E1 at line 2\n',
    )

    // The sensor agent goes down; a line is written, then the file is rotated.
    await sensor.stop()
    appendFileSync(log, 'ERROR E2 while the agent was down\n')
    renameSync(log, `${log}.1`)
    writeFileSync(log, 'ERROR E3 in the new file\n')
    platform.agents.push(startAgent(sensor.options))

    const runs = await runsAtLeast(3)
    for (const r of runs) expect((await platform.waitForRun(r.id)).status, platform.logs()).toBe('succeeded')
    expect(codesOf(runs)).toEqual(['E1', 'E2', 'E3'])
    const e2 = runs.find((r) => codesOf([r])[0] === 'E2')!
    expect(e2.event.data).toMatchObject({ path: `${log}.1`, lineNumber: 3 })

    // A few more checks: nothing is read twice.
    appendFileSync(log, 'INFO quiet\n')
    await new Promise((resolve) => setTimeout(resolve, 4000))
    expect(codesOf(await platform.runsOf(workflow.id))).toEqual(['E1', 'E2', 'E3'])
  }, 300_000)
})
