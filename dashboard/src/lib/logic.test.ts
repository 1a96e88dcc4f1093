import { describe, expect, it } from 'vitest'
import { diffLines, diffStats, splitLines } from './diff.ts'
import { dryRunEvent } from './dry-run.ts'
import { describeIssue, issuesByLine, lineCount, lineRange, offsetOf } from './editor.ts'
import { duration } from './format.ts'
import {
  applyRunEvent,
  filtersFromParams,
  filtersToParams,
  filtersToQuery,
  insertRun,
  matchesFilters,
  type RunSummary,
} from './run-filters.ts'
import { timeline } from './timeline.ts'

const NOW = Date.parse('2026-12-07T10:00:00Z')

function run(id: string, over: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    workflowId: 'wf-1',
    workflowName: 'restart-nginx',
    workflowVersion: 1,
    status: 'queued',
    event: {},
    createdAt: '2026-12-07T09:59:00.000Z',
    startedAt: null,
    finishedAt: null,
    ...over,
  }
}

describe('diffLines', () => {
  /** Applying the script to the old text must give the new text. */
  function replay(a: string, b: string) {
    const lines = diffLines(a, b)
    expect(lines.filter((l) => l.op !== 'add').map((l) => l.text)).toEqual(splitLines(a))
    expect(lines.filter((l) => l.op !== 'del').map((l) => l.text)).toEqual(splitLines(b))
    return lines
  }

  it('marks a changed line as one removal and one addition, with line numbers', () => {
    const lines = replay('name: a\nversion: 1\nend\n', 'name: a\nversion: 2\nend\n')
    expect(lines).toEqual([
      { op: 'same', text: 'name: a', a: 1, b: 1 },
      { op: 'del', text: 'version: 1', a: 2 },
      { op: 'add', text: 'version: 2', b: 2 },
      { op: 'same', text: 'end', a: 3, b: 3 },
    ])
    expect(diffStats(lines)).toEqual({ added: 1, removed: 1 })
  })

  it('finds the shortest script for inserts, deletes, empty sides and reorderings', () => {
    expect(diffStats(replay('', 'a\nb\n'))).toEqual({ added: 2, removed: 0 })
    expect(diffStats(replay('a\nb\n', ''))).toEqual({ added: 0, removed: 2 })
    expect(diffStats(replay('a\nb\nc\nd', 'a\nx\nb\nd'))).toEqual({ added: 1, removed: 1 })
    expect(diffStats(replay('a\nb\nc', 'c\nb\na'))).toEqual({ added: 2, removed: 2 })
    expect(replay('same\n', 'same\n').every((l) => l.op === 'same')).toBe(true)
  })

  it('agrees with a replay on many random edits', () => {
    let seed = 7
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let t = 0; t < 200; t++) {
      const a = Array.from({ length: Math.floor(rand() * 12) }, () => 'abc'[Math.floor(rand() * 3)]).join(
        '\n',
      )
      const b = Array.from({ length: Math.floor(rand() * 12) }, () => 'abc'[Math.floor(rand() * 3)]).join(
        '\n',
      )
      replay(a, b)
    }
  })
})

describe('editor positions', () => {
  const text = 'name: x\nactions:\n  - id: a\n    timout: 5\n'

  it('finds line:column in the text, clamped to the line', () => {
    expect(text.slice(offsetOf(text, 4, 5))).toMatch(/^timout/)
    expect(offsetOf(text, 1, 1)).toBe(0)
    expect(offsetOf(text, 1, 999)).toBe(7)
    expect(offsetOf(text, 99, 1)).toBe(text.length)
    const [s, e] = lineRange(text, 3)
    expect(text.slice(s, e)).toBe('  - id: a')
    expect(lineCount(text)).toBe(5)
    expect(lineCount('')).toBe(1)
  })

  it('groups issues by line and words them as line:column path: message', () => {
    const issues = [
      { path: 'actions[0].timout', message: 'unknown field', line: 4, column: 5 },
      { path: 'actions[0]', message: 'plugin: required', line: 4, column: 3 },
      { path: '', message: 'the document is empty' },
    ]
    const byLine = issuesByLine(issues)
    expect(byLine.get(4)).toHaveLength(2)
    expect(byLine.get(0)).toHaveLength(1)
    expect(describeIssue(issues[0]!)).toBe('4:5 actions[0].timout: unknown field')
    expect(describeIssue(issues[2]!)).toBe('the document is empty')
  })
})

describe('run filters', () => {
  it('reads only valid filters from the URL and writes them back', () => {
    const f = filtersFromParams(new URLSearchParams('workflow=restart-nginx&status=bogus&since=24h'))
    expect(f).toEqual({ workflow: 'restart-nginx', status: '', since: '24h' })
    expect(filtersToParams(f).toString()).toBe('workflow=restart-nginx&since=24h')
    expect(filtersFromParams(new URLSearchParams('since=yesterday')).since).toBe('')
    expect(filtersFromParams(new URLSearchParams('since=2026-12-01T00:00:00Z')).since).toBe(
      '2026-12-01T00:00:00Z',
    )
  })

  it('asks the API for an ISO time and matches runs by workflow id or name, status and time', () => {
    const f = { workflow: 'restart-nginx', status: 'failed' as const, since: '1h' }
    expect(filtersToQuery(f, NOW)).toEqual({
      workflow: 'restart-nginx',
      status: 'failed',
      since: '2026-12-07T09:00:00.000Z',
    })
    expect(matchesFilters(run('r', { status: 'failed' }), f, NOW)).toBe(true)
    expect(
      matchesFilters(run('r', { status: 'failed', workflowName: 'other', workflowId: 'x' }), f, NOW),
    ).toBe(false)
    expect(
      matchesFilters(run('r', { status: 'failed', workflowName: 'x' }), { ...f, workflow: 'wf-1' }, NOW),
    ).toBe(true)
    expect(matchesFilters(run('r', { status: 'succeeded' }), f, NOW)).toBe(false)
    expect(matchesFilters(run('r', { status: 'failed', createdAt: '2026-12-07T08:00:00Z' }), f, NOW)).toBe(
      false,
    )
  })

  it('applies a run event: a shown run changes status, an unknown one is to be read', () => {
    const rows = [run('a'), run('b', { status: 'running', startedAt: '2026-12-07T09:59:01Z' })]
    const at = '2026-12-07T10:00:00.000Z'
    const started = applyRunEvent(rows, { type: 'run', data: { runId: 'a', status: 'running' } }, at)
    expect(started).toEqual({
      kind: 'updated',
      rows: [{ ...rows[0], status: 'running', startedAt: at }, rows[1]],
    })
    const done = applyRunEvent(rows, { type: 'run', data: { runId: 'b', status: 'failed' } }, at)
    expect(done.kind === 'updated' && done.rows[1]).toMatchObject({ status: 'failed', finishedAt: at })
    expect(applyRunEvent(rows, { type: 'run', data: { runId: 'new', status: 'queued' } }, at)).toEqual({
      kind: 'fetch',
      runId: 'new',
    })
    expect(applyRunEvent(rows, { type: 'step', data: { runId: 'a', status: 'running' } }, at).kind).toBe(
      'none',
    )
    // A finished run does not go back to running if a late event arrives.
    const finished = [run('c', { status: 'succeeded' })]
    expect(applyRunEvent(finished, { type: 'run', data: { runId: 'c', status: 'running' } }, at).kind).toBe(
      'none',
    )
  })

  it('inserts a new run newest first, once, and only if the filters want it', () => {
    const rows = [run('old', { createdAt: '2026-12-07T09:00:00Z' })]
    const added = insertRun(rows, run('new'), { workflow: '', status: '', since: '' }, NOW)
    expect(added.map((r) => r.id)).toEqual(['new', 'old'])
    expect(insertRun(added, run('new'), { workflow: '', status: '', since: '' }, NOW)).toBe(added)
    expect(insertRun(rows, run('new'), { workflow: '', status: 'failed', since: '' }, NOW)).toBe(rows)
  })
})

describe('timeline', () => {
  it('places each step on the run’s span, running ones up to now', () => {
    const r = { createdAt: '2026-12-07T09:59:50Z', finishedAt: null }
    const { spanMs, bars } = timeline(
      r,
      [
        {
          stepId: 'a',
          status: 'succeeded',
          createdAt: r.createdAt,
          startedAt: '2026-12-07T09:59:50Z',
          finishedAt: '2026-12-07T09:59:55Z',
        },
        {
          stepId: 'b',
          status: 'running',
          createdAt: r.createdAt,
          startedAt: '2026-12-07T09:59:55Z',
          finishedAt: null,
        },
        {
          stepId: 'c',
          status: 'queued',
          createdAt: '2026-12-07T09:59:55Z',
          startedAt: null,
          finishedAt: null,
        },
      ],
      NOW,
    )
    expect(spanMs).toBe(10_000)
    expect(bars[0]).toMatchObject({ left: 0, width: 50, ms: 5000 })
    expect(bars[1]).toMatchObject({ left: 50, width: 50, ms: 5000 })
    expect(bars[2]).toMatchObject({ left: 50, width: 0, ms: null })
  })
})

describe('dry-run events', () => {
  it('takes pasted JSON as the data, or a whole event, or an id', () => {
    expect(dryRunEvent('data', '{"service":"nginx"}')).toEqual({
      ok: true,
      event: { data: { service: 'nginx' } },
    })
    expect(dryRunEvent('data', '{"data":{"a":1},"type":"alert"}')).toEqual({
      ok: true,
      event: { data: { a: 1 }, type: 'alert' },
    })
    expect(dryRunEvent('data', '[1,2]')).toEqual({ ok: true, event: { data: [1, 2] } })
    expect(dryRunEvent('runId', ' r-1 ')).toEqual({ ok: true, event: { runId: 'r-1' } })
    expect(dryRunEvent('eventId', 'e-1')).toEqual({ ok: true, event: { eventId: 'e-1' } })
  })

  it('names what is wrong', () => {
    const bad = dryRunEvent('data', '{nope')
    expect(bad.ok === false && bad.error).toMatch(/^event: not JSON/)
    expect(dryRunEvent('runId', '')).toEqual({ ok: false, error: 'run id: required' })
  })
})

describe('duration', () => {
  it('reads at a glance', () => {
    expect(duration(850)).toBe('850 ms')
    expect(duration(4200)).toBe('4.2 s')
    expect(duration(185_000)).toBe('3 min 5 s')
    expect(duration(7_800_000)).toBe('2 h 10 min')
    expect(duration(-1)).toBe('—')
  })
})
