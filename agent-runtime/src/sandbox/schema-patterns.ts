// The host validates outputs and events against the plugin's own schemas, so a `pattern`
// in those schemas is a regular expression the plugin chose and the HOST runs (outside the
// isolate's CPU limit). A pattern that can backtrack catastrophically on a string the
// plugin also chooses would stall the sandbox host for every plugin. Such patterns are
// refused at load: nested quantifiers ("(a+)+", "(a|a)*"-style groups that repeat a
// repeated part) and backreferences, which is what makes backtracking exponential.

/** Longer patterns are almost certainly not hand-written validation. */
const MAX_PATTERN_LENGTH = 1_000
/** A schema is walked once at load; deeper nesting than this is not a real schema. */
const MAX_DEPTH = 64

/** A group that contains a quantifier and is itself quantified: `(…+…)*`, `(…*)+`, `(…{2,})?{3}`. */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,?\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,?\d*\})/
/** A quantified alternation group, e.g. `(a|aa)+`: overlapping alternatives backtrack too. */
const QUANTIFIED_ALTERNATION = /\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,?\d*\})/
const BACKREFERENCE = /\\[1-9]|\\k</

/** The reason `pattern` is refused, or undefined when it is safe enough to run on the host. */
export function patternRisk(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`
  if (BACKREFERENCE.test(pattern)) return 'uses a backreference'
  if (NESTED_QUANTIFIER.test(pattern))
    return 'repeats a group that itself repeats (catastrophic backtracking)'
  if (QUANTIFIED_ALTERNATION.test(pattern))
    return 'repeats a group of alternatives (catastrophic backtracking)'
  try {
    new RegExp(pattern, 'u')
  } catch {
    return 'is not a valid regular expression'
  }
  return undefined
}

/** Finds the first risky `pattern`/`patternProperties` in a schema, as "path: reason". */
export function findRiskyPattern(schema: unknown, path: string, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return `${path}: nested deeper than ${MAX_DEPTH} levels`
  if (Array.isArray(schema)) {
    for (let i = 0; i < schema.length; i++) {
      const found = findRiskyPattern(schema[i], `${path}[${i}]`, depth + 1)
      if (found) return found
    }
    return undefined
  }
  if (schema === null || typeof schema !== 'object') return undefined
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'pattern' && typeof value === 'string') {
      const risk = patternRisk(value)
      if (risk) return `${path}.pattern ${JSON.stringify(value)} ${risk}`
    }
    if (key === 'patternProperties' && value !== null && typeof value === 'object') {
      for (const p of Object.keys(value)) {
        const risk = patternRisk(p)
        if (risk) return `${path}.patternProperties ${JSON.stringify(p)} ${risk}`
      }
    }
    const found = findRiskyPattern(value, `${path}.${key}`, depth + 1)
    if (found) return found
  }
  return undefined
}
