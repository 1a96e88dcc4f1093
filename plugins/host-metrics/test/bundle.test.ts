// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts) on this machine's own /proc: memory measured against thresholds set
// around what the host really uses, CPU made busy by real processes, and the space in use on
// this machine's / read through a real `df`, granted as an operator grants it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

const grants = { fs: { read: ['/proc/stat', '/proc/meminfo', '/proc/loadavg'], write: [] }, exec: ['df'] }

/** Space in use on / now, percent, as df -P computes it (used / (used + available)). */
function rootDiskPercent(): number {
  const row = execFileSync('df', ['-P', '-k', '--', '/'], { encoding: 'utf8' }).trim().split('\n')[1]!
  const [, , used, available] = row.split(/\s+/).map(Number)
  return (used! / (used! + available!)) * 100
}

/** Memory in use now, percent, as the plugin computes it (MemTotal - MemAvailable). */
function memoryPercent(): number {
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))![1])
  return ((kb('MemTotal') - kb('MemAvailable')) / kb('MemTotal')) * 100
}

describe('host-metrics bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'sensor')

  it("reports this host's memory over a threshold, then recovered, from the agent sandbox", async () => {
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const used = memoryPercent()
      const check = (threshold: number) =>
        sandbox.invoke(name, {
          ...callIds(),
          config: { name: 'this-host', thresholds: { memoryPercent: threshold } },
        })
      const over = await check(Math.max(0, used - 3))
      expect(over.events).toHaveLength(1)
      const data = over.events[0]!.data as Record<string, unknown> & { metrics: Record<string, number> }
      expect(data).toMatchObject({ name: 'this-host', metric: 'memoryPercent', unit: '%' })
      expect(Math.abs((data.value as number) - used)).toBeLessThan(3)
      // The whole picture, read from the real files.
      expect(data.metrics.cpus).toBe(cpus().length)
      expect(data.metrics.memoryTotalBytes).toBeGreaterThan(0)
      expect(data.metrics.load1).toBeGreaterThanOrEqual(0)
      expect((await check(Math.max(0, used - 3))).events).toEqual([]) // still over: nothing new
      const recovered = await check(Math.min(100, used + 10))
      expect(recovered.events.map((e) => e.type)).toEqual(['host-metrics.recovered'])
    })
  })

  it("reports this machine's / over a diskPercent threshold, then recovered, through the granted df", async () => {
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const used = rootDiskPercent()
      const check = (threshold: number) =>
        sandbox.invoke(name, {
          ...callIds(),
          config: { name: 'disk', thresholds: { diskPercent: threshold } },
        })
      const over = await check(Math.max(0, used - 3))
      expect(over.events).toHaveLength(1)
      const data = over.events[0]!.data as Record<string, unknown> & { metrics: { disks: unknown[] } }
      expect(data).toMatchObject({ name: 'disk', metric: 'diskPercent', path: '/', mount: '/', unit: '%' })
      expect(Math.abs((data.value as number) - used)).toBeLessThan(1)
      expect(data.metrics.disks).toEqual([expect.objectContaining({ path: '/', mount: '/' })])
      expect((await check(Math.max(0, used - 3))).events).toEqual([]) // still over: nothing new
      const recovered = await check(Math.min(100, used + 10))
      expect(recovered.events.map((e) => e.type)).toEqual(['host-metrics.recovered'])
    })
  })

  it('is refused df on an agent whose operator did not grant it, naming the command', async () => {
    const withoutDf = { fs: grants.fs }
    await inSandbox(import.meta.url, pkg, withoutDf, async (sandbox, name) => {
      await expect(
        sandbox.invoke(name, { ...callIds(), config: { thresholds: { diskPercent: 90 } } }),
      ).rejects.toMatchObject({
        code: 'STAVILY_ERR_PERMISSION_DENIED',
        message: expect.stringContaining('df'),
      })
    })
  })

  it('sees the CPU busy while processes spin on every core', async () => {
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const config = { name: 'cpu', thresholds: { cpuPercent: 75 } }
      // Counters saved, and the metric known to be ok (nothing is over 100 %), whatever the
      // machine was doing before.
      await sandbox.invoke(name, { ...callIds(), config: { ...config, thresholds: { cpuPercent: 100 } } })
      const spinners: ChildProcess[] = cpus().map(() =>
        spawn(process.execPath, ['-e', 'const end = Date.now() + 3000; while (Date.now() < end);'], {
          stdio: 'ignore',
        }),
      )
      try {
        await new Promise((resolve) => setTimeout(resolve, 1500))
        const busy = await sandbox.invoke(name, { ...callIds(), config })
        expect(busy.events.map((e) => (e.data as { metric: string }).metric)).toEqual(['cpuPercent'])
        expect((busy.events[0]!.data as { value: number }).value).toBeGreaterThan(75)
      } finally {
        for (const child of spinners) child.kill()
      }
    })
  })
})
