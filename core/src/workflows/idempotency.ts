import { createHash } from 'node:crypto'

// The key a plugin receives as ctx.idempotencyKey. It is the same for every attempt of one
// step of one run, so a retry after a lost result can be recognised by the plugin (or passed
// on as an Idempotency-Key header) and the side effect is not repeated; another run, or
// another step of the same run, gets another key.

const VERSION = 'stavily-step-v1'

/** A stable key for a step of a run: 48 URL-safe characters (`stv1_` + base64url of a SHA-256). */
export function stepIdempotencyKey(runId: string, stepId: string): string {
  // Length-prefixed parts: ("ab", "c") and ("a", "bc") must not collide.
  const material = [VERSION, runId, stepId].map((p) => `${Buffer.byteLength(p)}:${p}`).join('|')
  return `stv1_${createHash('sha256').update(material).digest('base64url')}`
}
