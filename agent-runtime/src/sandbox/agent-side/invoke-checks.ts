// Checks the options of one invoke() on the agent side and turns them into the request the
// sandbox host runs: ids, operation, deadline, secrets, and the plugin's concurrency limit.
// Every message names the option and what was expected.
import { SandboxErrorCodes, sandboxError } from '../../errors.ts'
import type { InvokeRequest, Operation, PluginKind } from '../protocol.ts'
import type { InvokeOptions } from './api.ts'
import type { Route } from './routes.ts'

const DEFAULT_OPERATION: Record<PluginKind, Operation> = { action: 'run', output: 'send', sensor: 'check' }
const ID_PATTERN = /^[A-Za-z0-9._:@/-]{1,200}$/
const ID_EXPECTED = 'a string of 1-200 characters from A-Z a-z 0-9 . _ : @ / -'

/** The request for `route`'s plugin, or throws INVALID_ARGUMENT / TOO_MANY_CALLS. */
export function checkInvoke(route: Route, o: InvokeOptions, id: number): InvokeRequest {
  const name = route.spec.manifest.name
  if (o === null || typeof o !== 'object') throw invalid('options', 'an object', o)
  if (typeof o.invocationId !== 'string' || !ID_PATTERN.test(o.invocationId)) {
    throw invalid('invocationId', ID_EXPECTED, o.invocationId)
  }
  if (typeof o.idempotencyKey !== 'string' || !ID_PATTERN.test(o.idempotencyKey)) {
    throw invalid('idempotencyKey', ID_EXPECTED, o.idempotencyKey)
  }
  const operation = o.operation ?? DEFAULT_OPERATION[route.info.kind]
  if (o.deadline !== undefined && (typeof o.deadline !== 'number' || !Number.isFinite(o.deadline))) {
    throw invalid('deadline', 'epoch milliseconds', o.deadline)
  }
  const secrets = o.secrets ?? {}
  if (typeof secrets !== 'object' || Object.values(secrets).some((v) => typeof v !== 'string')) {
    throw invalid('secrets', 'an object of strings', secrets)
  }
  if (route.inFlight >= route.spec.limits.concurrency) {
    throw sandboxError(
      SandboxErrorCodes.TOO_MANY_CALLS,
      `${name} already has ${route.inFlight} calls in flight; its limit is ${route.spec.limits.concurrency} (limits.concurrency)`,
    )
  }
  // A watch without a deadline runs until its signal aborts it.
  const deadline =
    o.deadline ?? (operation === 'watch' ? Number.MAX_SAFE_INTEGER : Date.now() + route.spec.limits.wallMs)
  // The plugin receives the JSON form of its input and config (a Date is its ISO string by
  // then, an undefined field is gone); the ids are checked above and the deadline is finite.
  const input = jsonOf('input', o.input)
  const config = jsonOf('config', o.config ?? {})
  return {
    id,
    key: route.key,
    name,
    operation,
    payload: `{${input === undefined ? '' : `"input":${input},`}${config === undefined ? '' : `"config":${config},`}"invocationId":"${o.invocationId}","idempotencyKey":"${o.idempotencyKey}","deadline":${deadline}}`,
    secrets,
    deadline,
    streamEvents: typeof o.onEvent === 'function',
  }
}

/** The JSON text of an option's value (undefined for undefined), or INVALID_ARGUMENT naming it. */
function jsonOf(field: string, value: unknown): string | undefined {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch (err) {
    throw sandboxError(
      SandboxErrorCodes.INVALID_ARGUMENT,
      `invoke ${field}: expected a value JSON can carry, but it does not serialize (${(err as Error).message})`,
    )
  }
  return json
}

function invalid(field: string, expected: string, got: unknown): Error {
  const shown =
    typeof got === 'string' ? JSON.stringify(got.slice(0, 80)) : got === null ? 'null' : typeof got
  return sandboxError(
    SandboxErrorCodes.INVALID_ARGUMENT,
    `invoke ${field}: expected ${expected}, got ${shown}`,
  )
}
