// Validation of config, input, output and events against a plugin's schemas, shared by the
// sandbox host and the test harness so both fail with the same code and the same message.
// Schemas arrive as plain JSON (copied out of the sandbox): only TypeBox's interpretive
// `Value` functions touch them, never a code generator.
import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { ErrorCodes, PluginError } from '../errors.ts'
import type { JsonValue } from '../json.ts'
import type { ManifestProblem } from './types.ts'

/**
 * What a value is checked as; decides the error code (`STAVILY_ERR_INVALID_INPUT`, ...) and
 * the root of the field paths in messages (`input.service`).
 *
 * @example
 * ```ts
 * const role: ValueRole = 'config'
 * ```
 */
export type ValueRole = 'config' | 'input' | 'output' | 'event'

const CODES: Record<ValueRole, string> = {
  config: ErrorCodes.INVALID_CONFIG,
  input: ErrorCodes.INVALID_INPUT,
  output: ErrorCodes.INVALID_OUTPUT,
  event: ErrorCodes.INVALID_EVENT,
}
const MAX_PROBLEMS = 20 // enough to fix a payload; a huge list is noise

/**
 * Every way `value` fails `schema`, as `{ path, message }` with paths rooted at `root`
 * (`input.items[2].name: must be string, got number`). Empty when the value is valid.
 *
 * @example
 * ```ts
 * import { schemaProblems } from '@stavily/sdk/manifest'
 * schemaProblems(plugin.schemas.input, { service: 1 }, 'input')
 * // [{ path: 'input.service', message: 'must be string, got number 1' }]
 * ```
 */
export function schemaProblems(schema: TSchema | object, value: unknown, root: string): ManifestProblem[] {
  if (Value.Check(schema as TSchema, value)) return []
  const problems: ManifestProblem[] = []
  const seen = new Set<string>()
  const constants = new Map<string, unknown[]>()
  const anyOf = new Map<string, string>()
  const add = (path: string, message: string) => {
    const key = `${path}\u0000${message}`
    if (seen.has(key)) return
    seen.add(key)
    problems.push({ path, message })
  }
  for (const error of Value.Errors(schema as TSchema, value)) {
    const segments = parsePointer(error.instancePath)
    const params = (error.params ?? {}) as Record<string, unknown>
    if (error.keyword === 'required' && Array.isArray(params.requiredProperties)) {
      for (const name of params.requiredProperties)
        add(formatPath(root, [...segments, String(name)]), 'is required')
      continue
    }
    if (error.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)) {
      for (const name of params.additionalProperties) {
        add(formatPath(root, [...segments, String(name)]), 'is not allowed (unknown field)')
      }
      continue
    }
    // The same unknown field again, reported through `additionalProperties: false`.
    if (error.keyword === 'boolean' && error.schemaPath.endsWith('/additionalProperties')) continue
    const path = formatPath(root, segments)
    if (error.keyword === 'const') {
      const list = constants.get(path) ?? []
      list.push(params.allowedValue)
      constants.set(path, list)
      continue
    }
    if (error.keyword === 'anyOf') {
      anyOf.set(path, `${error.message}, got ${describeValue(valueAt(value, segments))}`)
      continue
    }
    add(path, `${error.message}, got ${describeValue(valueAt(value, segments))}`)
  }
  // A union of literals reads better as "must be one of ..." than as "must match anyOf".
  for (const [path, message] of anyOf) if (!constants.has(path)) add(path, message)
  for (const [path, allowed] of constants) {
    const shown = allowed.map((item) => JSON.stringify(item)).join(', ')
    add(path, `must be ${allowed.length === 1 ? shown : `one of ${shown}`}`)
  }
  if (problems.length === 0) add(root, 'does not match its schema')
  return problems.slice(0, MAX_PROBLEMS)
}

/**
 * Throws `PluginError` with the role's code (`STAVILY_ERR_INVALID_INPUT` for `'input'`, ...)
 * unless `value` matches `schema`. The message lists every problem with its field path;
 * `data.problems` holds them as `{ path, message }`.
 *
 * @example
 * ```ts
 * import { assertValid } from '@stavily/sdk/manifest'
 * assertValid('input', plugin.schemas.input, input)
 * // throws: invalid input: input.service: is required
 * ```
 */
export function assertValid(
  role: ValueRole,
  schema: TSchema | object,
  value: unknown,
  root: string = role,
): void {
  const problems = schemaProblems(schema, value, root)
  if (problems.length === 0) return
  throw new PluginError(
    CODES[role],
    `invalid ${role}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    {
      data: { problems: problems.map((p) => ({ path: p.path, message: p.message })) },
    },
  )
}

/**
 * Checks an emitted event: the envelope (`type` a non-empty string, `dedupeKey` a string,
 * `occurredAt` an ISO 8601 time, nothing else) and `data` against the event schema. Throws
 * `PluginError` `STAVILY_ERR_INVALID_EVENT` naming every problem.
 *
 * @example
 * ```ts
 * import { assertValidEvent } from '@stavily/sdk/manifest'
 * assertValidEvent(plugin.schemas.event, { type: 'site.down', data: { status: 503 } })
 * ```
 */
export function assertValidEvent(schema: TSchema | object, event: unknown): void {
  const problems: ManifestProblem[] = []
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    problems.push({
      path: 'event',
      message: `expected an object { type, data, dedupeKey?, occurredAt? }, got ${describeValue(event)}`,
    })
  } else {
    const envelope = event as Record<string, unknown>
    for (const key of Object.keys(envelope)) {
      if (!['type', 'data', 'dedupeKey', 'occurredAt'].includes(key)) {
        problems.push({
          path: `event.${key}`,
          message: 'is not allowed; expected type, data, dedupeKey, occurredAt',
        })
      }
    }
    if (typeof envelope.type !== 'string' || envelope.type === '') {
      problems.push({
        path: 'event.type',
        message: `must be a non-empty string, got ${describeValue(envelope.type)}`,
      })
    }
    if (envelope.dedupeKey !== undefined && typeof envelope.dedupeKey !== 'string') {
      problems.push({
        path: 'event.dedupeKey',
        message: `must be a string, got ${describeValue(envelope.dedupeKey)}`,
      })
    }
    if (envelope.occurredAt !== undefined && !isIsoTime(envelope.occurredAt)) {
      problems.push({
        path: 'event.occurredAt',
        message: `must be an ISO 8601 time such as "2024-05-01T12:00:00Z", got ${describeValue(envelope.occurredAt)}`,
      })
    }
    problems.push(...schemaProblems(schema, envelope.data, 'event.data'))
  }
  if (problems.length === 0) return
  throw new PluginError(
    ErrorCodes.INVALID_EVENT,
    `invalid event: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    { data: { problems: problems.map((p) => ({ path: p.path, message: p.message })) as JsonValue } },
  )
}

function isIsoTime(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/.test(value) &&
    Number.isFinite(Date.parse(value))
  )
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return []
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function formatPath(root: string, segments: string[]): string {
  let out = root
  for (const segment of segments) {
    if (/^(?:0|[1-9]\d*)$/.test(segment)) out += `[${segment}]`
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += `.${segment}`
    else out += `[${JSON.stringify(segment)}]`
  }
  return out
}

function valueAt(value: unknown, segments: string[]): unknown {
  let current = value
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[segment]
  }
  return current
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') {
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  return typeof value === 'object' ? 'an object' : typeof value
}
