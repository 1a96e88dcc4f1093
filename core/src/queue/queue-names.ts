// pg-boss queue names. One queue per organization, agent kind and pool: an agent fetches
// only from its own, which is what keeps sensor agents away from action work and every
// agent inside its organization and pool.

export const DEAD_LETTER_QUEUE = 'stavily.dead'

export function instructionQueue(orgId: string, kind: 'sensor' | 'action', pool: string): string {
  return `i.${orgId}.${kind}.${pool}`
}

/** The fleet wake-up channel of a queue. */
export function wakeChannel(queue: string): string {
  return `q:${queue}`
}
