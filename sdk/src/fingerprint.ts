// A short, stable fingerprint of a text, for state keys and dedupe keys. The sandbox has no
// `crypto`, and a state key is limited to 256 characters while a URL or a query may be
// longer, so two independent 32-bit FNV-1a hashes make a 64-bit fingerprint: collisions
// among the handful of targets one plugin checks are not a practical concern. Not for
// anything an attacker chooses to collide with (it is not a cryptographic hash).

/**
 * A 16-hex-character fingerprint of `text`, the same on every agent and every run: for
 * `ctx.state` keys and event dedupe keys derived from a URL, a path or a query.
 *
 * @example
 * ```ts
 * import { fingerprint } from '@stavily/sdk'
 * await ctx.state.set(`last:${fingerprint(config.url)}`, Date.now())
 * ```
 */
export function fingerprint(text: string): string {
  return `${fnv1a(text, 0x811c9dc5)}${fnv1a(text, 0x01000193)}`
}

function fnv1a(text: string, seed: number): string {
  let hash = seed >>> 0
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}
