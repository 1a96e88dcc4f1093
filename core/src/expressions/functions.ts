import { EXPRESSION_POLICY } from './policy.ts'
import { deepEqual, describe, isPlainObject, jsonText, toText } from './values.ts'

// The built-in functions: pure, total over JSON values, and bounded in what they produce.
// `default` is not here: it must see an unknown path as "missing", so the evaluator handles it.

/** Thrown by a function on a bad argument; the evaluator turns it into an ExpressionError with the column. */
export class FunctionArgumentError extends Error {}

interface FunctionSpec {
  min: number
  max: number
  call(args: unknown[]): unknown
}

const str = (fn: string, args: unknown[], i: number): string => {
  const v = args[i]
  if (typeof v !== 'string')
    throw new FunctionArgumentError(`${fn}() expects a string as argument ${i + 1}, got ${describe(v)}`)
  return v
}

export const FUNCTIONS: Record<string, FunctionSpec> = {
  contains: {
    min: 2,
    max: 2,
    call: ([haystack, needle]) => {
      if (typeof haystack === 'string') return haystack.includes(toText(needle))
      if (Array.isArray(haystack)) return haystack.some((x) => deepEqual(x, needle))
      throw new FunctionArgumentError(
        `contains() expects a string or an array as argument 1, got ${describe(haystack)}`,
      )
    },
  },
  startsWith: { min: 2, max: 2, call: (a) => str('startsWith', a, 0).startsWith(str('startsWith', a, 1)) },
  endsWith: { min: 2, max: 2, call: (a) => str('endsWith', a, 0).endsWith(str('endsWith', a, 1)) },
  lower: { min: 1, max: 1, call: (a) => str('lower', a, 0).toLowerCase() },
  upper: { min: 1, max: 1, call: (a) => str('upper', a, 0).toUpperCase() },
  trim: { min: 1, max: 1, call: (a) => str('trim', a, 0).trim() },
  length: {
    min: 1,
    max: 1,
    call: ([v]) => {
      if (typeof v === 'string' || Array.isArray(v)) return v.length
      if (isPlainObject(v)) return Object.keys(v).length
      throw new FunctionArgumentError(`length() expects a string, an array or an object, got ${describe(v)}`)
    },
  },
  toJSON: {
    min: 1,
    max: 1,
    call: ([v]) => {
      const text = jsonText(v)
      if (text.length > EXPRESSION_POLICY.maxRenderedLength)
        throw new FunctionArgumentError(
          `toJSON() result is ${text.length} characters, more than the ${EXPRESSION_POLICY.maxRenderedLength} allowed`,
        )
      return text
    },
  },
  fromJSON: {
    min: 1,
    max: 1,
    call: (a) => {
      const text = str('fromJSON', a, 0)
      try {
        return JSON.parse(text)
      } catch (err) {
        throw new FunctionArgumentError(`fromJSON() got text that is not JSON: ${(err as Error).message}`)
      }
    },
  },
  number: {
    min: 1,
    max: 1,
    call: ([v]) => {
      if (typeof v === 'number') return v
      if (typeof v === 'boolean') return v ? 1 : 0
      // Prometheus and most webhooks send numbers as strings ("0.93"); this is the one
      // explicit conversion, strict so "" or "12abc" is an error and not 0 or NaN.
      if (typeof v === 'string' && v.trim() !== '') {
        const n = Number(v)
        if (Number.isFinite(n)) return n
      }
      throw new FunctionArgumentError(`number() cannot convert ${describe(v)} to a number`)
    },
  },
  string: { min: 1, max: 1, call: ([v]) => toText(v) },
  join: {
    min: 1,
    max: 2,
    call: (a) => {
      const [list] = a
      if (!Array.isArray(list))
        throw new FunctionArgumentError(`join() expects an array as argument 1, got ${describe(list)}`)
      const sep = a.length > 1 ? str('join', a, 1) : ','
      return list.map(toText).join(sep)
    },
  },
}

/** Names the parser accepts as calls: the functions above plus the evaluator's `default`. */
export const FUNCTION_NAMES: readonly string[] = [...Object.keys(FUNCTIONS), 'default'].sort()

/** The function called `name`; own keys only, so `constructor` or `__proto__` are not functions. */
export function getFunction(name: string): FunctionSpec | undefined {
  return Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined
}

export function arity(name: string): { min: number; max: number } | undefined {
  if (name === 'default') return { min: 2, max: 2 }
  const spec = getFunction(name)
  return spec && { min: spec.min, max: Math.min(spec.max, EXPRESSION_POLICY.maxArguments) }
}
