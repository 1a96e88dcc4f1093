// The secrets an agent's operator granted, as the agent reports them (at register and with
// each heartbeat): granted to every plugin (`all`) plus per plugin. The orchestrator sends
// an agent only the secrets a plugin declares AND the agent grants it, so a secret never
// reaches an agent that would only have dropped it. An agent that never reported grants
// (NULL) gets none.

export interface SecretGrants {
  all: string[]
  plugins?: Record<string, string[]>
}

/** The stored form: names deduplicated and sorted, plugins without names left out. */
export function normalizeGrants(g: SecretGrants): Required<SecretGrants> {
  const clean = (names: string[]) => [...new Set(names)].sort()
  const plugins: Record<string, string[]> = {}
  for (const [name, names] of Object.entries(g.plugins ?? {}))
    if (names.length > 0) plugins[name] = clean(names)
  return { all: clean(g.all), plugins }
}

/** The secret names an agent grants `plugin`: nothing when it never reported its grants. */
export function grantedTo(grants: SecretGrants | null | undefined, plugin: string): Set<string> {
  if (!grants) return new Set()
  return new Set([...(grants.all ?? []), ...(grants.plugins?.[plugin] ?? [])])
}
