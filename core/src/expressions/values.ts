// The values expressions work on: JSON data (events, step outputs, literals). Anything else
// that reaches the evaluator (a class instance, a function) is treated as opaque and refused.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** A short type name for messages: `string`, `number`, `object`, `array`, `null`. */
export function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (v === undefined) return 'undefined'
  return typeof v
}

/** `got number 3`, `got string "x"`: what a type error shows of the value it refused. */
export function describe(v: unknown): string {
  const t = typeName(v)
  if (t === 'string') return `string ${JSON.stringify(clip(v as string))}`
  if (t === 'number' || t === 'boolean') return `${t} ${String(v)}`
  return t
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s
}

/** Truthiness for `when`, `!`, `&&`, `||`: false, null, 0, NaN and '' are false; everything else true. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '') return false
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v)
  return true
}

/**
 * Structural equality over JSON values (`==`): no coercion, `1 == '1'` is false. Iterative,
 * because event data can be nested deeper than the call stack allows.
 */
export function deepEqual(a: unknown, b: unknown): boolean {
  const pending: [unknown, unknown][] = [[a, b]]
  while (pending.length > 0) {
    const [x, y] = pending.pop()!
    if (x === y) continue
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false
      for (let i = 0; i < x.length; i++) pending.push([x[i], y[i]])
    } else if (isPlainObject(x) && isPlainObject(y)) {
      const keys = Object.keys(x)
      if (keys.length !== Object.keys(y).length) return false
      for (const k of keys) {
        if (!Object.hasOwn(y, k)) return false
        pending.push([x[k], y[k]])
      }
    } else {
      return false
    }
  }
  return true
}

/** Thrown when a value cannot be written as JSON text (nested too deep for the stack, or cyclic). */
export class UnprintableValueError extends Error {}

/** JSON text of a value, or UnprintableValueError. */
export function jsonText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'null'
  } catch (err) {
    throw new UnprintableValueError(`value cannot be written as JSON: ${(err as Error).message}`)
  }
}

/** How a value reads inside text (`Hello ${{ x }}`): strings as they are, null as '', the rest as JSON. */
export function toText(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return jsonText(v)
}
