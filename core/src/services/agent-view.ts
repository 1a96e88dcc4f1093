import type { Agent } from '../types.ts'

// An agent as operators see it: GET /agents' items and the data of the stream's `agent`
// events are this one shape, so a client updates a row from an event without a re-read.

export type AgentChange = 'registered' | 'presence' | 'plugins'

export function agentView(a: Agent, lostAfterMs: number) {
  const lastSeen = new Date(a.lastSeenAt)
  return {
    id: a.id,
    name: a.name,
    kind: a.kind,
    pool: a.pool,
    labels: a.labels,
    version: a.version,
    status: a.status,
    drain: a.drain,
    lastSeenAt: lastSeen.toISOString(),
    online: a.status === 'online' && Date.now() - lastSeen.getTime() < lostAfterMs,
    loadedPlugins: a.loadedPlugins ?? null,
  }
}
