/**
 * A value that survives `JSON.stringify`/`JSON.parse` unchanged: what plugins may put in
 * log fields, state, event data and error data, because all of those cross the sandbox
 * boundary as copies.
 *
 * @example
 * ```ts
 * import type { JsonValue } from '@stavily/sdk'
 * const fields: Record<string, JsonValue> = { host: 'db-1', attempts: 3, tags: ['prod'] }
 * ```
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
