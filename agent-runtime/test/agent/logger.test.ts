// Log lines: JSON by default; the small human form used on a terminal.
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger, prettyLine } from '../../src/agent/logger.ts'

describe('agent logger', () => {
  it('prints one human line per JSON line on a terminal', () => {
    const line = JSON.stringify({
      level: 40,
      time: '2026-11-28T10:04:05.123Z',
      pid: 1,
      msg: 'poll failed; retrying',
      retryInMs: 812,
      error: 'ECONNREFUSED',
    })
    expect(prettyLine(line)).toBe('10:04:05 WARN  poll failed; retrying  retryInMs=812 error=ECONNREFUSED\n')
    expect(prettyLine('not json')).toBe('not json')
  })

  it('writes pretty lines to a terminal-like destination', () => {
    const out = new PassThrough()
    let text = ''
    out.on('data', (c: Buffer) => {
      text += c.toString()
    })
    const log = createLogger('info', { pretty: true, destination: out })
    log.info({ plugin: '@acme/x' }, 'plugin loaded')
    log.debug('hidden at info')
    expect(text).toMatch(/^\d\d:\d\d:\d\d INFO {2}plugin loaded {2}plugin=@acme\/x\n$/)
  })
})
