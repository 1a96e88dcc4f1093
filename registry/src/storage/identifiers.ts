import { invalidArgument } from '../errors.ts'

// The schema name is the only identifier interpolated into SQL text; it is checked here, once,
// when the registry is created.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/

export const DEFAULT_SCHEMA = 'stavily_registry'

export function checkSchemaName(field: string, name: unknown): string {
  if (typeof name !== 'string' || !SCHEMA_NAME.test(name))
    throw invalidArgument(field, 'a lower-case SQL identifier (a-z, 0-9, _; at most 48 characters)', name)
  return name
}
