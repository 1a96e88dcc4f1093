import { ErrorCodes, type JsonValue } from '@stavily/sdk'
import { testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

const path = '/var/log/app/app.log'
const rotated = '/var/log/app/app.log.1'
const config = { path, pattern: 'ERROR (?<code>E\\d+)' }
// The manifest leaves the paths to the operator ("$granted"): the agent's grant decides.
const grants = { fs: { read: ['/var/log/app'] } }

type Event = { type: string; data: Record<string, unknown>; dedupeKey?: string }

/** Runs checks one after the other over successive file contents, carrying state along. */
async function tail(
  steps: Record<string, string>[],
  extra: Record<string, unknown> = {},
  state: Record<string, JsonValue> = {},
) {
  const perCheck: Event[][] = []
  let current = state
  let logs: { level: string; message: string }[] = []
  for (const files of steps) {
    const r = await testSensor(plugin, {
      manifest: pkg,
      grants,
      config: { ...config, ...extra },
      state: current,
      files,
    })
    perCheck.push(r.events as Event[])
    current = r.state
    logs = [...logs, ...r.logs]
  }
  return { perCheck, events: perCheck.flat(), state: current, logs }
}

const lines = (...texts: string[]) => texts.map((t) => `${t}\n`).join('')

describe('log-file', () => {
  it('starts at the end of an existing file, then emits each new matching line once', async () => {
    const old = lines('2026-12-07 ERROR E1 old', 'info')
    const { perCheck } = await tail([
      { [path]: old },
      { [path]: old + lines('info again', '2026-12-07 ERROR E42 disk full', 'ERROR E7 again') },
      { [path]: old + lines('info again', '2026-12-07 ERROR E42 disk full', 'ERROR E7 again') },
    ])
    expect(perCheck[0]).toEqual([])
    expect(perCheck[1]).toMatchObject([
      {
        type: 'log-file.match',
        data: {
          name: path,
          path,
          line: '2026-12-07 ERROR E42 disk full',
          lineNumber: 4,
          groups: { code: 'E42' },
          captures: ['E42'],
          truncated: false,
        },
      },
      { data: { line: 'ERROR E7 again', lineNumber: 5 } },
    ])
    expect(perCheck[2]).toEqual([])
  })

  it('reads from the beginning with startAt: beginning, and skips lines the exclude pattern matches', async () => {
    const { events } = await tail(
      [{ [path]: lines('ERROR E1 a', 'ERROR E2 ignored: healthcheck', 'ERROR E3 c') }],
      { startAt: 'beginning', exclude: 'healthcheck' },
    )
    expect(events.map((e) => e.data.line)).toEqual(['ERROR E1 a', 'ERROR E3 c'])
  })

  it('waits for a line to be complete before matching it', async () => {
    const { perCheck } = await tail([
      { [path]: '' },
      { [path]: 'ERROR E5 half' },
      { [path]: 'ERROR E5 half a line\r\n' },
    ])
    expect(perCheck[1]).toEqual([])
    expect(perCheck[2]?.map((e) => e.data.line)).toEqual(['ERROR E5 half a line'])
  })

  it('follows a rename rotation: the rest of the rotated file, then the new file from its start', async () => {
    const before = lines('2026-12-07T10:00 start', 'ERROR E1 seen')
    const { perCheck, logs } = await tail([
      { [path]: before },
      // Rotated: app.log renamed to app.log.1 after two more lines, a new app.log begun.
      {
        [rotated]: before + lines('ERROR E2 written before the rotation', 'info'),
        [path]: lines('2026-12-07T11:00 start', 'ERROR E3 in the new file'),
      },
      {
        [rotated]: before + lines('ERROR E2 written before the rotation', 'info'),
        [path]: lines('2026-12-07T11:00 start', 'ERROR E3 in the new file', 'ERROR E4 next'),
      },
    ])
    expect(perCheck[1]).toMatchObject([
      { data: { path: rotated, line: 'ERROR E2 written before the rotation', lineNumber: 3 } },
      { data: { path, line: 'ERROR E3 in the new file', lineNumber: 2 } },
    ])
    expect(perCheck[2]?.map((e) => e.data.line)).toEqual(['ERROR E4 next'])
    expect(logs).toContainEqual(expect.objectContaining({ message: expect.stringContaining('rotated') }))
  })

  it('follows copytruncate: a file shorter than the position is read again from its start', async () => {
    const before = lines('boot', 'ERROR E1 a', 'info', 'info')
    const { perCheck, logs } = await tail([
      { [path]: before },
      { [path]: lines('ERROR E9 after truncation') },
    ])
    expect(perCheck[1]?.map((e) => e.data.line)).toEqual(['ERROR E9 after truncation'])
    // No app.log.1 here: the sensor says lines may have been missed.
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('not at rotatedPath') }),
    )
  })

  it('reads the rotated file while the new one is not there yet, then the new one whole', async () => {
    const before = lines('boot', 'info')
    const { perCheck } = await tail([
      { [path]: before },
      { [rotated]: before + lines('ERROR E1 last words') },
      { [rotated]: before + lines('ERROR E1 last words'), [path]: lines('ERROR E2 first words') },
      { [rotated]: before + lines('ERROR E1 last words'), [path]: lines('ERROR E2 first words') },
    ])
    expect(perCheck.map((events) => events.map((e) => e.data.line))).toEqual([
      [],
      ['ERROR E1 last words'],
      ['ERROR E2 first words'],
      [],
    ])
  })

  it('uses a configured rotatedPath', async () => {
    const other = '/var/log/app/archive/app.log.old'
    const before = lines('boot')
    const { events } = await tail(
      [{ [path]: before }, { [other]: before + lines('ERROR E1 x'), [path]: lines('new') }],
      { rotatedPath: other },
    )
    expect(events.map((e) => e.data.path)).toEqual([other])
  })

  it('emits at most maxEvents per check and leaves the rest for the next one', async () => {
    const many = lines(...Array.from({ length: 5 }, (_, i) => `ERROR E${i}`))
    const { perCheck } = await tail([{ [path]: '' }, { [path]: many }, { [path]: many }, { [path]: many }], {
      maxEvents: 2,
    })
    expect(perCheck.map((events) => events.map((e) => e.data.line))).toEqual([
      [],
      ['ERROR E0', 'ERROR E1'],
      ['ERROR E2', 'ERROR E3'],
      ['ERROR E4'],
    ])
  })

  it('keeps the rest of a rotated file across checks when it holds more than maxEvents matches', async () => {
    const before = lines('boot')
    const old = before + lines('ERROR E1', 'ERROR E2', 'ERROR E3')
    const { perCheck } = await tail(
      [
        { [path]: before },
        { [rotated]: old, [path]: lines('ERROR E9 new') },
        { [rotated]: old, [path]: lines('ERROR E9 new') },
      ],
      { maxEvents: 2 },
    )
    expect(perCheck.map((events) => events.map((e) => e.data.line))).toEqual([
      [],
      ['ERROR E1', 'ERROR E2'],
      ['ERROR E3', 'ERROR E9 new'],
    ])
  })

  it('waits for a file that does not exist yet, then reads all of it', async () => {
    const { perCheck, logs } = await tail([{}, {}, { [path]: lines('ERROR E1 early') }])
    expect(perCheck.map((events) => events.length)).toEqual([0, 0, 1])
    expect(logs).toContainEqual(expect.objectContaining({ message: 'log file not found; waiting for it' }))
  })

  it('cuts long lines to maxLineChars and says so', async () => {
    const { events } = await tail([{ [path]: '' }, { [path]: lines(`ERROR E1 ${'x'.repeat(500)}`) }], {
      maxLineChars: 100,
    })
    expect(events[0]?.data).toMatchObject({ truncated: true })
    expect(String(events[0]?.data.line)).toHaveLength(100)
  })

  it('gives a line the same dedupe key whether read from the file or from the rotated file', async () => {
    const before = lines('boot')
    const grown = before + lines('ERROR E1 x')
    const direct = await tail([{ [path]: before }, { [path]: grown }])
    const viaRotation = await tail([{ [path]: before }, { [rotated]: grown, [path]: '' }])
    expect(direct.events[0]?.dedupeKey).toMatch(/^log-file:[0-9a-f]{16}:[0-9a-f]{16}:\d+$/)
    expect(viaRotation.events[0]?.dedupeKey).toBe(direct.events[0]?.dedupeKey)
  })

  it('starts afresh from a state value it does not recognise, or for another path', async () => {
    const first = await tail([{ [path]: lines('ERROR E1') }])
    const key = Object.keys(first.state).find((k) => k.startsWith('tail:'))!
    const garbage = await tail([{ [path]: lines('ERROR E1', 'ERROR E2') }], {}, { [key]: 'garbage' })
    expect(garbage.events).toEqual([]) // from the end, as a new tail
    const moved = await tail(
      [{ [path]: lines('ERROR E1', 'ERROR E2') }],
      { name: path },
      {
        [key]: { ...(first.state[key] as object), path: '/var/log/other.log' },
      },
    )
    expect(moved.events).toEqual([])
  })

  it('reads only what the operator granted: nothing without a grant, nothing outside it', async () => {
    await expect(testSensor(plugin, { manifest: pkg, config, files: { [path]: '' } })).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'fs.read' },
    })
    await expect(
      testSensor(plugin, { manifest: pkg, grants, config: { ...config, path: '/etc/shadow' }, files: {} }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, data: { permission: 'fs.read' } })
  })

  it('rejects bad config, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...config, path: 'app.log' }, 'config.path'],
      [{ ...config, path: '/var/log/../etc/passwd' }, 'config.path'],
      [{ ...config, path: '/var/log/app/' }, 'config.path'],
      [{ ...config, pattern: '(' }, 'config.pattern'],
      [{ ...config, exclude: '[' }, 'config.exclude'],
      [{ ...config, flags: 'g' }, 'config.flags'],
      [{ ...config, rotatedPath: path }, 'config.rotatedPath'],
      [{ ...config, maxEvents: 0 }, 'config.maxEvents'],
      [{ ...config, startAt: 'middle' }, 'config.startAt'],
      [{ ...config, patern: 'x' }, 'patern'],
    ]
    for (const [bad, field] of cases) {
      await expect(
        testSensor(plugin, { manifest: pkg, grants, config: bad as never }),
        field,
      ).rejects.toMatchObject({
        code: ErrorCodes.INVALID_CONFIG,
        message: expect.stringContaining(field),
      })
    }
  })
})

describe('log-file, the recorded event docs/workflows.md dry-runs against', () => {
  it('is what the sensor emits for that file', async () => {
    const recorded = (await import('../test/recorded-event.json', { with: { type: 'json' } })).default
    const first = await testSensor(plugin, {
      manifest: pkg,
      grants,
      config: recorded.config,
      files: { [recorded.config.path]: recorded.before },
    })
    const { events } = await testSensor(plugin, {
      manifest: pkg,
      grants,
      config: recorded.config,
      state: first.state,
      files: { [recorded.config.path]: recorded.after },
    })
    expect(events).toEqual([{ ...recorded.event, occurredAt: expect.any(String) }])
  })
})
