import { ErrorCodes, type JsonValue } from '@stavily/sdk'
import { testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

/** /proc files of a two-CPU host; `idle` and `busy` are the cumulative counters of the cpu line. */
function proc(
  o: { busy?: number; idle?: number; availableKb?: number; swapFreeKb?: number; load?: string } = {},
) {
  const busy = o.busy ?? 1000
  const idle = o.idle ?? 9000
  return {
    '/proc/stat': [
      `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0`,
      `cpu0 ${busy / 2} 0 0 ${idle / 2} 0 0 0 0 0 0`,
      `cpu1 ${busy / 2} 0 0 ${idle / 2} 0 0 0 0 0 0`,
      'intr 1 2 3',
      'ctxt 42',
      '',
    ].join('\n'),
    '/proc/meminfo': [
      'MemTotal:        1000000 kB',
      'MemFree:          100000 kB',
      `MemAvailable:     ${o.availableKb ?? 600000} kB`,
      'SwapTotal:        200000 kB',
      `SwapFree:         ${o.swapFreeKb ?? 200000} kB`,
      '',
    ].join('\n'),
    '/proc/loadavg': `${o.load ?? '0.50 0.40 0.30'} 1/300 4242\n`,
  }
}

type Event = { type: string; data: Record<string, unknown>; dedupeKey?: string }

/** Checks one after the other, each over its own /proc contents, carrying state along. */
async function checks(readings: ReturnType<typeof proc>[], config: Record<string, unknown>) {
  let state: Record<string, JsonValue> = {}
  const perCheck: Event[][] = []
  for (const files of readings) {
    const r = await testSensor(plugin, { manifest: pkg, config: config as never, state, files })
    perCheck.push(r.events as Event[])
    state = r.state
  }
  return { perCheck, events: perCheck.flat(), state }
}

describe('host-metrics', () => {
  it('stays quiet under the thresholds; the first check samples the CPU twice, cpuSampleMs apart', async () => {
    const r = await testSensor(plugin, {
      manifest: pkg,
      config: { thresholds: { cpuPercent: 90, memoryPercent: 90 }, cpuSampleMs: 500 },
      files: proc(),
    })
    expect(r.events).toEqual([])
    expect(r.calls.sleeps).toEqual([500])
    expect(r.calls.fs.filter((c) => c.path === '/proc/stat')).toHaveLength(2)
  })

  it('emits host-metrics.threshold once when memory goes over, and recovered when it comes back', async () => {
    const config = { name: 'web-1', thresholds: { memoryPercent: 80 } }
    const { perCheck } = await checks(
      [proc({ availableKb: 500000 }), proc({ availableKb: 100000 }), proc({ availableKb: 50000 }), proc()],
      config,
    )
    expect(perCheck.map((events) => events.map((e) => e.type))).toEqual([
      [],
      ['host-metrics.threshold'],
      [],
      ['host-metrics.recovered'],
    ])
    const over = perCheck[1]![0]!
    expect(over.data).toMatchObject({
      name: 'web-1',
      metric: 'memoryPercent',
      value: 90,
      threshold: 80,
      unit: '%',
      consecutiveChecks: 1,
      metrics: {
        memoryPercent: 90,
        memoryUsedBytes: 900000 * 1024,
        memoryTotalBytes: 1000000 * 1024,
        swapPercent: 0,
        load1: 0.5,
        cpus: 2,
      },
    })
    expect(over.dedupeKey).toMatch(/^host-metrics:[0-9a-f]{16}:memoryPercent:over:\d{4}-/)
    const recovered = perCheck[3]![0]!
    expect(recovered.data).toMatchObject({ metric: 'memoryPercent', value: 40, since: over.data.since })
    expect(recovered.data.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('computes CPU as the busy share since the previous check', async () => {
    const { perCheck } = await checks(
      // 1000 busy of 10000, then +950 busy and +50 idle: 95 % busy in between.
      [proc(), proc({ busy: 1950, idle: 9050 }), proc({ busy: 2000, idle: 9950 })],
      { thresholds: { cpuPercent: 90 } },
    )
    expect(perCheck[1]?.[0]?.data).toMatchObject({
      metric: 'cpuPercent',
      value: 95,
      metrics: { cpuPercent: 95 },
    })
    expect(perCheck[2]?.map((e) => [e.type, e.data.value])).toEqual([['host-metrics.recovered', 5.26]])
  })

  it('waits for forChecks readings in a row, and dates the episode from the first', async () => {
    const config = { thresholds: { load1: 2 }, forChecks: 2 }
    const high = proc({ load: '3.00 1.00 1.00' })
    const blip = await checks([high, proc(), high], config)
    expect(blip.events).toEqual([]) // a reading under the threshold ends the streak
    const streak = await checks([high, high, high], config)
    expect(streak.events).toHaveLength(1)
    expect(streak.events[0]?.data).toMatchObject({
      metric: 'load1',
      value: 3,
      unit: 'load',
      consecutiveChecks: 2,
    })
  })

  it('recovers only below threshold minus hysteresis; notifyRecovered: false keeps it quiet', async () => {
    const config = { thresholds: { memoryPercent: 80 }, hysteresis: 10 }
    const { perCheck } = await checks(
      [proc({ availableKb: 100000 }), proc({ availableKb: 250000 }), proc({ availableKb: 350000 })],
      config,
    )
    expect(perCheck.map((events) => events.map((e) => e.type))).toEqual([
      ['host-metrics.threshold'],
      [], // 75 %: under 80 but not under 70
      ['host-metrics.recovered'],
    ])
    const quiet = await checks([proc({ availableKb: 100000 }), proc()], { ...config, notifyRecovered: false })
    expect(quiet.events.map((e) => e.type)).toEqual(['host-metrics.threshold'])
  })

  it('divides the load by the CPUs with loadPerCpu, and reports swap', async () => {
    const { events } = await checks([proc({ load: '3.00 2.00 1.00', swapFreeKb: 50000 })], {
      thresholds: { load5: 0.9, swapPercent: 50 },
      loadPerCpu: true,
    })
    expect(events.map((e) => [e.data.metric, e.data.value])).toEqual([
      ['swapPercent', 75],
      ['load5', 1],
    ])
  })

  it('reads a host /proc mounted at /host/proc', async () => {
    const files = Object.fromEntries(
      Object.entries(proc({ availableKb: 0 })).map(([k, v]) => [`/host${k}`, v]),
    )
    const r = await testSensor(plugin, {
      manifest: pkg,
      config: { procRoot: '/host/proc', thresholds: { memoryPercent: 99 } },
      files,
    })
    expect(r.events[0]?.data).toMatchObject({ metric: 'memoryPercent', value: 100 })
  })

  it('fails the check, naming the file, when a proc file is not what Linux writes', async () => {
    await expect(
      testSensor(plugin, {
        manifest: pkg,
        config: { thresholds: { memoryPercent: 90 } },
        files: { ...proc(), '/proc/meminfo': 'nothing here\n' },
      }),
    ).rejects.toMatchObject({
      code: 'HOST_METRICS_UNREADABLE',
      message: expect.stringContaining('/proc/meminfo'),
    })
  })

  it('fails the check when the operator did not grant /proc', async () => {
    await expect(
      testSensor(plugin, {
        manifest: pkg,
        grants: { fs: { read: ['/host/proc/stat'] } },
        config: { thresholds: { memoryPercent: 90 } },
        files: proc(),
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, data: { reason: 'ungranted' } })
  })

  it('starts afresh from a state value it does not recognise', async () => {
    const first = await checks([proc()], { thresholds: { memoryPercent: 50 } })
    const key = Object.keys(first.state).find((k) => k.startsWith('host:'))!
    const r = await testSensor(plugin, {
      manifest: pkg,
      config: { thresholds: { memoryPercent: 30 } },
      state: { [key]: { name: 'localhost', cpu: 'x', metrics: { memoryPercent: 'garbage' } } },
      files: proc(),
    })
    expect(r.events.map((e) => e.type)).toEqual(['host-metrics.threshold'])
  })

  it('rejects bad config, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'thresholds'],
      [{ thresholds: {} }, 'config.thresholds'],
      [{ thresholds: { cpuPercent: 120 } }, 'config.thresholds.cpuPercent'],
      [{ thresholds: { disk: 90 } }, 'disk'],
      [{ thresholds: { memoryPercent: 90 }, loadPerCpu: true }, 'config.loadPerCpu'],
      [{ thresholds: { memoryPercent: 90 }, procRoot: '/etc' }, 'procRoot'],
      [{ thresholds: { memoryPercent: 90 }, forChecks: 0 }, 'forChecks'],
    ]
    for (const [bad, field] of cases) {
      await expect(
        testSensor(plugin, { manifest: pkg, config: bad as never, files: proc() }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(field) })
    }
  })
})

describe('host-metrics, the recorded event docs/workflows.md dry-runs against', () => {
  it('is what the sensor emits for those /proc files', async () => {
    const recorded = (await import('../test/recorded-event.json', { with: { type: 'json' } })).default
    const { events } = await testSensor(plugin, {
      manifest: pkg,
      config: recorded.config,
      files: recorded.files,
    })
    const since = expect.stringMatching(/^\d{4}-/)
    expect(events).toEqual([
      {
        ...recorded.event,
        data: { ...recorded.event.data, since },
        dedupeKey: expect.stringMatching(/^host-metrics:76b7b71f07d450b9:memoryPercent:over:\d{4}-/),
        occurredAt: since,
      },
    ])
  })
})

/** `df -P -k` output for the paths given, each with the used share asked for (of 1,000,000 KiB usable). */
function df(rows: { path: string; mount?: string; percent: number }[]) {
  return [
    'Filesystem     1024-blocks     Used Available Capacity Mounted on',
    ...rows.map(
      (r) =>
        `/dev/vda1 1100000 ${r.percent * 10_000} ${(100 - r.percent) * 10_000} ${r.percent}% ${r.mount ?? r.path}`,
    ),
    '',
  ].join('\n')
}

describe('host-metrics, disk space through df', () => {
  async function diskChecks(percents: Record<string, number>[], config: Record<string, unknown>) {
    let state: Record<string, JsonValue> = {}
    const perCheck: Event[][] = []
    for (const reading of percents) {
      const r = await testSensor(plugin, {
        manifest: pkg,
        config: config as never,
        state,
        files: proc(),
        exec: { df: { stdout: df(Object.entries(reading).map(([path, percent]) => ({ path, percent }))) } },
      })
      perCheck.push(r.events as Event[])
      state = r.state
      expect(r.calls.exec).toEqual([
        { command: 'df', args: ['-P', '-k', '--', ...Object.keys(reading)], options: { timeoutMs: 10_000 } },
      ])
    }
    return perCheck
  }

  it('emits diskPercent over and recovered per listed path, each once, naming the path and its mount', async () => {
    const perCheck = await diskChecks(
      [
        { '/': 50, '/var/lib/postgresql': 70 },
        { '/': 50, '/var/lib/postgresql': 95 },
        { '/': 92, '/var/lib/postgresql': 96 },
        { '/': 40, '/var/lib/postgresql': 60 },
      ],
      { name: 'db-1', thresholds: { diskPercent: 90 }, disks: ['/', '/var/lib/postgresql'] },
    )
    const seen = perCheck.map((events) => events.map((e) => `${e.type} ${e.data.path}`))
    expect(seen).toEqual([
      [],
      ['host-metrics.threshold /var/lib/postgresql'],
      ['host-metrics.threshold /'],
      ['host-metrics.recovered /', 'host-metrics.recovered /var/lib/postgresql'],
    ])
    const over = perCheck[1]![0]!
    expect(over.data).toMatchObject({
      name: 'db-1',
      metric: 'diskPercent',
      path: '/var/lib/postgresql',
      mount: '/var/lib/postgresql',
      value: 95,
      threshold: 90,
      unit: '%',
      consecutiveChecks: 1,
    })
    expect((over.data.metrics as { disks: unknown[] }).disks).toEqual([
      { path: '/', mount: '/', percent: 50, usedBytes: 500_000 * 1024, availableBytes: 500_000 * 1024 },
      {
        path: '/var/lib/postgresql',
        mount: '/var/lib/postgresql',
        percent: 95,
        usedBytes: 950_000 * 1024,
        availableBytes: 50_000 * 1024,
      },
    ])
    // Two disks over at once are two episodes: their dedupe keys differ by path.
    expect(over.dedupeKey).toMatch(/:diskPercent:\/var\/lib\/postgresql:over:/)
  })

  it('watches / when diskPercent has no disks listed; runs no df without a diskPercent threshold', async () => {
    const perCheck = await diskChecks([{ '/': 99 }], { thresholds: { diskPercent: 90 } })
    expect(perCheck[0]!.map((e) => e.data.mount)).toEqual(['/'])
    const quiet = await testSensor(plugin, {
      manifest: pkg,
      config: { thresholds: { memoryPercent: 99 } },
      files: proc(),
    })
    expect(quiet.calls.exec).toEqual([])
  })

  it('fails naming df when df fails or its output is not what df -P writes', async () => {
    const run = (exec: Record<string, unknown>) =>
      testSensor(plugin, {
        manifest: pkg,
        config: { thresholds: { diskPercent: 90 }, disks: ['/srv/missing'] },
        files: proc(),
        exec: { df: exec },
      })
    await expect(
      run({ code: 1, stderr: 'df: /srv/missing: No such file or directory\n' }),
    ).rejects.toMatchObject({
      code: 'HOST_METRICS_DF_FAILED',
      message: expect.stringContaining('/srv/missing: No such file or directory'),
    })
    await expect(run({ stdout: 'nonsense\n' })).rejects.toMatchObject({
      code: 'HOST_METRICS_UNREADABLE',
      message: expect.stringContaining('df -P'),
    })
  })

  it('is denied df when the operator did not grant it, naming the command', async () => {
    await expect(
      testSensor(plugin, {
        manifest: pkg,
        grants: { fs: { read: ['/proc/stat', '/proc/meminfo', '/proc/loadavg'] }, exec: [] },
        config: { thresholds: { diskPercent: 90 } },
        files: proc(),
        exec: { df: { stdout: df([{ path: '/', percent: 10 }]) } },
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, message: expect.stringContaining('df') })
  })

  it('refuses disks without a diskPercent threshold, and paths that are not absolute or listed twice', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ thresholds: { memoryPercent: 90 }, disks: ['/'] }, 'config.disks'],
      [{ thresholds: { diskPercent: 90 }, disks: ['var'] }, 'config.disks[0]'],
      [{ thresholds: { diskPercent: 90 }, disks: ['/', '/a/../b'] }, 'config.disks[1]'],
      [{ thresholds: { diskPercent: 90 }, disks: ['/', '/'] }, 'config.disks[1]'],
      [{ thresholds: { diskPercent: 90 }, disks: [] }, 'config.disks'],
    ]
    for (const [bad, field] of cases) {
      await expect(
        testSensor(plugin, { manifest: pkg, config: bad as never, files: proc() }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(field) })
    }
  })
})
