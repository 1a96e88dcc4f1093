import { ErrorCodes, PluginError } from './errors.ts'

// Checks for the define* functions. TypeScript catches most mistakes at compile time; these
// catch the rest (plain JavaScript plugins, `as any`) when the bundle loads, with a message
// that names the field instead of a failure deep inside the host later.

export function definitionError(fn: string, message: string): PluginError {
  return new PluginError(ErrorCodes.INVALID_DEFINITION, `${fn}: ${message}`)
}

export function checkSpec(
  fn: string,
  spec: unknown,
  allowed: readonly string[],
): asserts spec is Record<string, unknown> {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw definitionError(fn, `expected an object { ${allowed.join(', ')} }, got ${describe(spec)}`)
  }
  const unknown = Object.keys(spec).filter((key) => !allowed.includes(key))
  if (unknown.length > 0) {
    throw definitionError(
      fn,
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; expected only ${allowed.join(', ')}`,
    )
  }
}

export function checkSchema(
  fn: string,
  spec: Record<string, unknown>,
  field: string,
  required: boolean,
): void {
  const value = spec[field]
  if (value === undefined) {
    if (required) throw definitionError(fn, `${field}: a schema is required, e.g. Type.Object({ ... })`)
    return
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw definitionError(
      fn,
      `${field}: expected a TypeBox schema such as Type.Object({ ... }), got ${describe(value)}`,
    )
  }
}

export function checkHandler(
  fn: string,
  spec: Record<string, unknown>,
  field: string,
  required: boolean,
): void {
  const value = spec[field]
  if (value === undefined && !required) return
  if (typeof value !== 'function') {
    throw definitionError(fn, `${field}: expected a function, got ${describe(value)}`)
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}
