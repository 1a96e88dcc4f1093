import type { FleetState } from './fleet-state.ts'

// Revocations as fleet messages: an agent revoked or its credential rotated, an API token
// revoked (and an agent changed: what instances remember of its credential goes). Every instance ends what it holds open for them at once: parked long-polls and
// event streams outlive the request that authenticated them, so the per-request check alone
// would let them run on. The message only prompts: what is still valid is always read back
// from PostgreSQL, and when Redis is down each holder's own periodic re-check catches it.

const AGENT_CHANNEL = 'revoked:agent'
const TOKEN_CHANNEL = 'revoked:token'
const AGENT_CHANGED_CHANNEL = 'changed:agent'

/** Tells every instance that an agent was revoked or its credential rotated. Never throws. */
export function announceAgentRevoked(fleet: FleetState, agentId: string): Promise<void> {
  return fleet.publish(AGENT_CHANNEL, agentId).catch(() => {})
}

/** Tells every instance that an API token was revoked. Never throws. */
export function announceTokenRevoked(fleet: FleetState, tokenId: string): Promise<void> {
  return fleet.publish(TOKEN_CHANNEL, tokenId).catch(() => {})
}

/**
 * Tells every instance that an agent changed in a way its authentication shows (drain set,
 * its organization deleted), so what they remember of its credential goes. Never throws.
 */
export function announceAgentChanged(fleet: FleetState, agentId: string): Promise<void> {
  return fleet.publish(AGENT_CHANGED_CHANNEL, agentId).catch(() => {})
}

/** Calls `fn` with the id of each agent changed on any instance; resolves to an unsubscribe. */
export function onAgentChanged(
  fleet: FleetState,
  fn: (agentId: string) => void,
): Promise<() => Promise<void>> {
  return fleet.subscribe(AGENT_CHANGED_CHANNEL, fn)
}

/** Calls `fn` with the id of each agent revoked (or rotated) on any instance; resolves to an unsubscribe. */
export function onAgentRevoked(
  fleet: FleetState,
  fn: (agentId: string) => void,
): Promise<() => Promise<void>> {
  return fleet.subscribe(AGENT_CHANNEL, fn)
}

/** Calls `fn` with the id of each API token revoked on any instance; resolves to an unsubscribe. */
export function onTokenRevoked(
  fleet: FleetState,
  fn: (tokenId: string) => void,
): Promise<() => Promise<void>> {
  return fleet.subscribe(TOKEN_CHANNEL, fn)
}
