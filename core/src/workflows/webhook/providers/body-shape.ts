import { StavilyError } from '../../../errors.ts'

// Reading a provider's JSON body: each missing or mistyped field is a 400 that names it,
// as the rest of the API does. Only what the events need is read; the rest is ignored.

export type Json = Record<string, unknown>

function refuse(field: string, expected: string): never {
  throw new StavilyError('STAVILY_ERR_MALFORMED_BODY', `body.${field}: expected ${expected}`, {
    data: { field: `body.${field}` },
  })
}

export function object(value: unknown, field: string): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) refuse(field, 'an object')
  return value as Json
}

export function text(value: unknown, field: string): string {
  if (typeof value !== 'string') refuse(field, 'a string')
  return value
}

export function optionalText(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : text(value, field)
}

export function list(value: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(value)) refuse(field, 'a list')
  if (value.length > max) refuse(field, `at most ${max} items`)
  return value
}

/** A mapping of label or annotation names to strings. */
export function stringMap(value: unknown, field: string): Record<string, string> {
  const o = value === undefined ? {} : object(value, field)
  for (const [k, v] of Object.entries(o)) if (typeof v !== 'string') refuse(`${field}.${k}`, 'a string')
  return o as Record<string, string>
}
