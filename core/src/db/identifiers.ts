import { invalid } from '../errors.ts'

// Schema names are the only identifiers interpolated into SQL; they are checked here first.
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,47}$/

export function checkSchemaName(field: string, name: string): string {
  if (!SCHEMA_NAME.test(name))
    throw invalid(field, 'a lower-case SQL identifier (a-z, 0-9, _; at most 48 characters)', name)
  return name
}
