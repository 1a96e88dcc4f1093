// An agent's presence as the page shows it, from the API's fields: revoked wins, then a
// drained agent that is still online is "draining" (it finishes its work and takes none),
// then online, else lost (no heartbeat within the orchestrator's lost-after window).

export type Presence = 'online' | 'draining' | 'lost' | 'revoked'

export const PRESENCES: readonly Presence[] = ['online', 'draining', 'lost', 'revoked']

export function presenceOf(a: { status: string; online: boolean; drain: boolean }): Presence {
  if (a.status === 'revoked') return 'revoked'
  if (!a.online) return 'lost'
  return a.drain ? 'draining' : 'online'
}

export function isPresence(v: string | null): v is Presence {
  return v !== null && (PRESENCES as readonly string[]).includes(v)
}
