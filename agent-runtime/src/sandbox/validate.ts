// Validates config, input and output against a plugin's own schemas on the host, through the
// SDK's checker (TypeBox's interpretive Value functions: a plugin's schema is data, never
// compiled into code), so the sandbox and the test harness fail with the same messages.
import { assertValid, type ValueRole } from '@stavily/sdk/manifest'

/** Throws INVALID_<ROLE> naming each failing field; a missing schema accepts anything. */
export function validateAgainst(role: ValueRole, schema: unknown, value: unknown): void {
  if (schema === undefined || schema === null) return
  assertValid(role, schema as object, value)
}
