// Durations in documents are strings with a unit ("30s", "5m"): a bare number would leave
// the reader guessing whether it means seconds or milliseconds.

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export const DURATION_PATTERN = '^[0-9]{1,9}(ms|s|m|h|d)$'

/** Milliseconds of a duration such as "30s"; undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^([0-9]{1,9})(ms|s|m|h|d)$/.exec(text)
  if (!m) return undefined
  return Number(m[1]) * UNITS[m[2]!]!
}
