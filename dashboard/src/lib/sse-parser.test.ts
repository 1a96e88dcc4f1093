import { describe, expect, it } from 'vitest'
import { SseParser } from './sse-parser.ts'
import { liveEventOf } from './stream.ts'

describe('SseParser', () => {
  it('parses the stream route’s messages, comments and retry', () => {
    const p = new SseParser()
    const out = p.push(
      'retry: 3000\n: connected\n\nevent: run\ndata: {"runId":"r1","status":"running"}\n\n: ping\n\n',
    )
    expect(out).toEqual([{ event: 'run', data: '{"runId":"r1","status":"running"}' }])
    expect(p.retryMs).toBe(3000)
    expect(p.comments).toBe(2)
  })

  it('joins a message split across chunks anywhere, even inside \\r\\n', () => {
    const text = 'event: step\r\ndata: {"a":1}\r\n\r\nevent: agent\r\ndata: {"b":2}\r\n\r\n'
    for (let cut = 1; cut < text.length; cut++) {
      const p = new SseParser()
      const out = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut))]
      expect(out, `cut at ${cut}`).toEqual([
        { event: 'step', data: '{"a":1}' },
        { event: 'agent', data: '{"b":2}' },
      ])
    }
  })

  it('joins data lines, defaults the event name, keeps the id, drops a BOM and empty data', () => {
    const p = new SseParser()
    expect(p.push('\uFEFFid: 7\ndata: one\ndata:two\n\nevent: lonely\n\n')).toEqual([
      { event: 'message', data: 'one\ntwo', id: '7' },
    ])
    // An unfinished message waits for its blank line.
    expect(p.push('event: run\ndata: {}')).toEqual([])
    expect(p.push('\n\n')).toEqual([{ event: 'run', data: '{}', id: '7' }])
  })

  it('ignores a retry that is not a number', () => {
    const p = new SseParser()
    p.push('retry: soon\n\n')
    expect(p.retryMs).toBeUndefined()
  })
})

describe('liveEventOf', () => {
  it('takes JSON objects and refuses anything else', () => {
    expect(liveEventOf({ event: 'run', data: '{"runId":"r"}' })).toEqual({
      type: 'run',
      data: { runId: 'r' },
    })
    expect(liveEventOf({ event: 'run', data: '[1]' })).toBeNull()
    expect(liveEventOf({ event: 'run', data: 'not json' })).toBeNull()
    expect(liveEventOf({ event: 'run', data: 'null' })).toBeNull()
  })
})
