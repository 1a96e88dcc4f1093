// Argument checks for capability calls: every value arrives from plugin code, so each is
// checked for type and size, and a bad one fails with a message naming the argument.
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'

export function bad(where: string, expected: string, got: unknown): Error {
  return sandboxError(
    SandboxErrorCodes.CAPABILITY_FAILED,
    `${where}: expected ${expected}, got ${describe(got)}`,
  )
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string')
    return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value)
  return typeof value
}

export function str(
  where: string,
  value: unknown,
  maxLength: number,
  options: { empty?: boolean } = {},
): string {
  if (typeof value !== 'string' || (!options.empty && value.length === 0) || value.length > maxLength) {
    throw bad(where, `a ${options.empty ? '' : 'non-empty '}string of at most ${maxLength} characters`, value)
  }
  if (value.includes('\0')) throw bad(where, 'a string without NUL characters', value)
  return value
}

export function optionalNumber(where: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw bad(where, `a number from ${min} to ${max}`, value)
  }
  return value
}

export function plainObject(where: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw bad(where, 'an object', value)
  return value as Record<string, unknown>
}

export function stringRecord(
  where: string,
  value: unknown,
  maxEntries: number,
  maxLength: number,
): Record<string, string> {
  const obj = plainObject(where, value)
  const out: Record<string, string> = {}
  if (!obj) return out
  const entries = Object.entries(obj)
  if (entries.length > maxEntries)
    throw bad(where, `at most ${maxEntries} entries`, `${entries.length} entries`)
  for (const [k, v] of entries) out[k] = str(`${where}.${k}`, v, maxLength, { empty: true })
  return out
}
