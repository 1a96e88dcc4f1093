// The host validates config, input, output and events against the plugin's own schemas, so
// a `pattern` (or a `patternProperties` key) is a regular expression the plugin chose, run
// by the HOST on strings the plugin (or a webhook's sender) also chooses, on its main thread
// and outside every CPU limit. A backtracking engine takes exponential time on patterns such
// as `^((a)+)+$`, which no heuristic reliably spots; so schema patterns run on RE2 (re2js, a
// pure-JS port: linear in the input, no native build, no wasm), and a pattern RE2 cannot run
// (backreferences, lookaround) is refused when the plugin loads.
//
// TypeBox compiles every schema pattern with `new RegExp(source, 'u')` (for `pattern`,
// `patternProperties` and the key check of `additionalProperties`) and offers no hook, so
// `withLinearPatterns` puts a constructor backed by RE2 in place of the global `RegExp` for
// the duration of one synchronous validation. Regular-expression literals (TypeBox's formats,
// the SDK's own code) are not affected: they never look up the global binding.
import { RE2JS } from 're2js'

/** Longer patterns are almost certainly not hand-written validation. */
const MAX_PATTERN_LENGTH = 1_000
/** A schema is walked once at load; deeper nesting than this is not a real schema. */
const MAX_DEPTH = 64
/** Compiled patterns kept; a plugin's schemas hold a handful, all plugins a few hundred. */
const CACHE_SIZE = 1_000

const NativeRegExp = RegExp
const cache = new Map<string, RE2JS>()

/**
 * Translates the ECMAScript escapes RE2 spells differently (`\uXXXX`, `\u{X}` → `\x{X}`);
 * escapes are consumed in pairs, so an escaped backslash before a `u` stays as it is.
 */
function toRe2Syntax(source: string): string {
  let out = ''
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c !== '\\' || i + 1 >= source.length) {
      out += c
      continue
    }
    const next = source[i + 1]
    const hex4 = /^[0-9A-Fa-f]{4}$/.exec(source.slice(i + 2, i + 6))
    if (next === 'u' && hex4) {
      out += `\\x{${hex4[0]}}`
      i += 5
    } else if (next === 'u' && source[i + 2] === '{') {
      out += '\\x{'
      i += 2
    } else {
      out += c + next
      i += 1
    }
  }
  return out
}

/** The RE2 program for an ECMAScript pattern (cached); throws when RE2 cannot run it. */
export function compileLinear(source: string, flags = ''): RE2JS {
  const key = `${flags}/${source}`
  let compiled = cache.get(key)
  if (!compiled) {
    let re2Flags = 0
    for (const flag of flags) {
      if (flag === 'i') re2Flags |= RE2JS.CASE_INSENSITIVE
      else if (flag === 'm') re2Flags |= RE2JS.MULTILINE
      else if (flag === 's') re2Flags |= RE2JS.DOTALL
      else if (flag !== 'u' && flag !== 'v')
        throw new SyntaxError(`unsupported regular expression flag "${flag}"`)
    }
    compiled = RE2JS.compile(toRe2Syntax(source), re2Flags)
    if (cache.size >= CACHE_SIZE) cache.clear()
    cache.set(key, compiled)
  }
  return compiled
}

/**
 * A RegExp whose `test` runs on RE2. It is still compiled as ECMAScript (so a pattern must
 * be valid in both, as JSON Schema asks), but the backtracking engine never matches.
 */
class LinearRegExp extends NativeRegExp {
  readonly #linear: RE2JS
  constructor(source: string, flags?: string) {
    // Checked first: a `format: "regex"` value reaches here too, and it is input, not schema.
    if (source.length > MAX_PATTERN_LENGTH)
      throw new SyntaxError(`a pattern longer than ${MAX_PATTERN_LENGTH} characters`)
    super(source, flags)
    this.#linear = compileLinear(source, flags ?? '')
  }
  override test(input: string): boolean {
    return this.#linear.test(String(input))
  }
  override exec(): never {
    // Only `test` is needed to validate; anything else would reach the backtracking engine.
    throw new TypeError('schema patterns support test() only')
  }
}

const instances = new Map<string, LinearRegExp>()

/**
 * What `new RegExp(...)` returns while the swap is in place; also callable without `new`.
 * TypeBox builds a RegExp for every value it checks; `test` without the g or y flag keeps no
 * state, so one instance per pattern serves them all: compiled once, not per value.
 */
function LinearRegExpConstructor(source: string | RegExp, flags?: string): RegExp {
  const text = source instanceof NativeRegExp ? source.source : String(source)
  const f = flags ?? (source instanceof NativeRegExp ? source.flags : '')
  const key = `${f}/${text}`
  let instance = instances.get(key)
  if (!instance) {
    instance = new LinearRegExp(text, f)
    if (/[gy]/.test(f)) return instance
    if (instances.size >= CACHE_SIZE) instances.clear()
    instances.set(key, instance)
  }
  return instance
}
LinearRegExpConstructor.prototype = LinearRegExp.prototype

/**
 * Runs `validate` (synchronous) with every RegExp it constructs from a string backed by RE2,
 * so its time is linear in the input whatever the patterns are.
 */
export function withLinearPatterns<T>(validate: () => T): T {
  const global = globalThis as { RegExp: RegExpConstructor }
  if (global.RegExp !== NativeRegExp) return validate() // already inside one
  global.RegExp = LinearRegExpConstructor as unknown as RegExpConstructor
  try {
    return validate()
  } finally {
    global.RegExp = NativeRegExp
  }
}

/** The reason `pattern` is refused, or undefined when the host can run it in linear time. */
export function patternRisk(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `longer than ${MAX_PATTERN_LENGTH} characters`
  try {
    new NativeRegExp(pattern, 'u')
  } catch {
    return 'is not a valid regular expression'
  }
  try {
    compileLinear(pattern, 'u')
  } catch (err) {
    return `cannot run on a linear-time engine (${(err as Error).message}); backreferences and lookaround are not supported`
  }
  return undefined
}

/** Finds the first refused `pattern`/`patternProperties` in a schema, as "path: reason". */
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
