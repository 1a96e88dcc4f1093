// Validates config, input, output and events against a plugin's own schemas on the host,
// through the SDK's checker (TypeBox's interpretive Value functions: a plugin's schema is
// data, never compiled into code), so the sandbox and the test harness fail with the same
// messages. Schema patterns run on a linear-time engine (schema-patterns.ts): validation
// runs on the host's main thread, outside every CPU limit.
import { assertValid, assertValidEvent, type ValueRole } from '@stavily/sdk/manifest'
import { withLinearPatterns } from './schema-patterns.ts'

/** Throws INVALID_<ROLE> naming each failing field; a missing schema accepts anything. */
export function validateAgainst(role: ValueRole, schema: unknown, value: unknown): void {
  if (schema === undefined || schema === null) return
  withLinearPatterns(() => assertValid(role, schema as object, value))
}

/** Throws INVALID_EVENT naming each problem of the envelope and of `data`. */
export function validateEvent(schema: unknown, event: unknown): void {
  withLinearPatterns(() => assertValidEvent((schema ?? {}) as object, event))
}
