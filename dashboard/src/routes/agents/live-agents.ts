// The Agents page's list, kept current from the stream's `agent` events (each carries the
// agent as GET /agents lists it), and what the page says each agent runs: the plugins it
// reports loaded next to what its pool is told to load, so a version that is not (yet)
// running shows as such.

export interface LoadedPlugin {
  name: string
  version: string
}

export interface Agent {
  id: string
  name: string
  kind: 'action' | 'sensor'
  pool: string
  labels: Record<string, string>
  version: string | null
  status: string
  drain: boolean
  lastSeenAt: string
  online: boolean
  /** What the agent reported loaded with its last heartbeat; null from an agent that never reports it. */
  loadedPlugins: LoadedPlugin[] | null
}

/**
 * The list with the event's agent in it: replaced in place when listed, else added at the
 * end (the API lists by enrollment time). Undefined when the event is not an agent's, so
 * the page can fall back to re-reading.
 */
export function withAgentEvent(list: Agent[], data: Record<string, unknown>): Agent[] | undefined {
  if (!isAgent(data)) return undefined
  const { change: _, ...agent } = data
  const at = list.findIndex((a) => a.id === agent.id)
  if (at < 0) return [...list, agent]
  return list.map((a, i) => (i === at ? agent : a))
}

function isAgent(d: Record<string, unknown>): d is Record<string, unknown> & Agent & { change?: unknown } {
  return (
    typeof d.id === 'string' &&
    typeof d.name === 'string' &&
    typeof d.pool === 'string' &&
    typeof d.status === 'string' &&
    typeof d.drain === 'boolean' &&
    typeof d.online === 'boolean' &&
    typeof d.lastSeenAt === 'string' &&
    typeof d.labels === 'object' &&
    d.labels !== null &&
    (d.loadedPlugins === null || Array.isArray(d.loadedPlugins))
  )
}

export interface PluginLine {
  name: string
  version: string
  /** loaded: runs and is what the pool asks for; extra: runs, the pool no longer asks for it;
   * pending: the pool asks for it and the agent does not run it (at that version). */
  state: 'loaded' | 'extra' | 'pending'
}

/**
 * One line per plugin for an agent that reports what it runs; null for one that does not
 * (the page then shows the pool's set as that, unconfirmed). Ordered by name.
 */
export function pluginLines(loaded: LoadedPlugin[] | null, wanted: LoadedPlugin[]): PluginLine[] | null {
  if (loaded === null) return null
  const wants = new Map(wanted.map((w) => [w.name, w.version]))
  const lines: PluginLine[] = loaded.map((p) => ({
    ...p,
    state: wants.get(p.name) === p.version ? 'loaded' : 'extra',
  }))
  for (const w of wanted)
    if (!loaded.some((p) => p.name === w.name && p.version === w.version))
      lines.push({ name: w.name, version: w.version, state: 'pending' })
  return lines.sort((a, b) => (a.name === b.name ? 0 : a.name < b.name ? -1 : 1))
}
