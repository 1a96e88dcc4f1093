import { describe, expect, it } from 'vitest'
import { type Agent, pluginLines, withAgentEvent } from './live-agents.ts'

const agent = (over: Partial<Agent> = {}): Agent => ({
  id: 'a1',
  name: 'web-1',
  kind: 'action',
  pool: 'web',
  labels: {},
  version: '1.0.0',
  status: 'online',
  drain: false,
  lastSeenAt: '2026-12-07T09:00:00.000Z',
  online: true,
  loadedPlugins: null,
  ...over,
})

describe('agent events on the Agents page', () => {
  it('replaces the listed agent in place, without the event-only field', () => {
    const list = [agent(), agent({ id: 'a2', name: 'web-2' })]
    const next = withAgentEvent(list, { change: 'presence', ...agent({ drain: true }) })
    expect(next).toEqual([agent({ drain: true }), list[1]])
  })

  it('adds an agent it has not listed at the end (a new enrollment)', () => {
    const next = withAgentEvent([agent()], { change: 'registered', ...agent({ id: 'a3', name: 'new' }) })
    expect(next?.map((a) => a.id)).toEqual(['a1', 'a3'])
  })

  it('leaves anything that is not an agent to a re-read', () => {
    expect(withAgentEvent([agent()], { id: 'a1', change: 'presence' })).toBeUndefined()
    expect(withAgentEvent([agent()], { ...agent(), loadedPlugins: 'x' })).toBeUndefined()
  })
})

describe('what an agent runs against what its pool asks for', () => {
  it('is unknown for an agent that never reports it', () => {
    expect(pluginLines(null, [{ name: 'p', version: '1.0.0' }])).toBeNull()
  })

  it('marks a wanted version not running as pending and a running one the pool dropped as extra', () => {
    const lines = pluginLines(
      [
        { name: 'b', version: '1.0.0' },
        { name: 'c', version: '2.0.0' },
        { name: 'a', version: '1.0.0' },
      ],
      [
        { name: 'a', version: '1.0.0' },
        { name: 'b', version: '1.1.0' },
        { name: 'd', version: '0.1.0' },
      ],
    )
    expect(lines).toEqual([
      { name: 'a', version: '1.0.0', state: 'loaded' },
      { name: 'b', version: '1.0.0', state: 'extra' },
      { name: 'b', version: '1.1.0', state: 'pending' },
      { name: 'c', version: '2.0.0', state: 'extra' },
      { name: 'd', version: '0.1.0', state: 'pending' },
    ])
  })
})
