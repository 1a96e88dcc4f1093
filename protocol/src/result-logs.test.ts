import { describe, expect, it } from 'vitest'
import { AGENT_API_LIMITS } from './agent-reports.ts'
import { CLIPPED_MESSAGE, clipLogs, normalizeLog } from './result-logs.ts'

const line = (i: number, message = `line ${i}`) => ({ level: 'info', message, at: 1_000 + i })

describe('clipLogs', () => {
  it('keeps a small list as it is', () => {
    const logs = [line(1), { ...line(2), fields: { n: 2 } }, { ...line(3), source: 'exec' }]
    expect(clipLogs(logs)).toEqual(logs)
  })

  it('keeps the first lines past the count limit and ends with a marker saying how many were left out', () => {
    const logs = Array.from({ length: AGENT_API_LIMITS.logsPerResult + 500 }, (_, i) => line(i))
    const clipped = clipLogs(logs)
    expect(clipped).toHaveLength(AGENT_API_LIMITS.logsPerResult)
    expect(clipped[0]).toEqual(line(0))
    const marker = clipped.at(-1)!
    expect(marker.message).toContain(`501 ${CLIPPED_MESSAGE}`)
    expect(marker.fields).toEqual({ clipped: 501 })
  })

  it('stays within the byte budget when the lines are large', () => {
    const big = 'x'.repeat(10_000)
    const logs = Array.from({ length: 100 }, (_, i) => line(i, big))
    const clipped = clipLogs(logs)
    expect(Buffer.byteLength(JSON.stringify(clipped))).toBeLessThanOrEqual(AGENT_API_LIMITS.logBytesPerResult)
    expect(clipped.at(-1)!.fields).toEqual({ clipped: 100 - (clipped.length - 1) })
  })

  it('cuts one oversized message, saying by how much', () => {
    const [entry] = clipLogs([line(1, 'y'.repeat(AGENT_API_LIMITS.logMessageLength + 10))])
    expect(entry!.message.endsWith('… [10 more characters]')).toBe(true)
  })
})

describe('normalizeLog', () => {
  it('makes any value a readable, wire-safe line', () => {
    expect(normalizeLog('plain text', 5)).toEqual({ level: 'info', message: 'plain text', at: 5 })
    expect(normalizeLog({ level: 'loud', message: 'a\u0000b', at: 7 })).toEqual({
      level: 'info',
      message: 'a\uFFFDb',
      at: 7,
    })
  })
})
