// Depth of a JSON text the isolate produced, measured before the host parses it. Every value
// a plugin hands the host (a result, an error, log fields, an event, a state value, capability
// arguments) arrives as JSON text; one nested a few thousand levels is small in bytes but
// overflows the recursive serializers after it (the IPC channel's structured clone, and
// JSON.stringify), which would take the whole sandbox host down. So it is refused here,
// with the wire policy's limit (WIRE_LIMITS.maxDepth, what the orchestrator accepts), as the
// plugin's own error.
import { WIRE_LIMITS } from '@stavily/protocol'

/** Nesting of arrays and objects a value from a plugin may have. */
export const MAX_VALUE_DEPTH = WIRE_LIMITS.maxDepth

/**
 * Whether `json` nests arrays and objects deeper than `max` levels (a top-level `{}` is one
 * level). A linear scan with no recursion and no parse: a hostile depth costs one pass.
 */
export function jsonDeeperThan(json: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (inString) {
      // A backslash escapes the next character (\" inside a string does not end it).
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}
