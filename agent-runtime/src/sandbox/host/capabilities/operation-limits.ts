// Caps on capability operations in flight (exec, fetch, fs, state): each holds host resources
// (a process, a socket, a file descriptor, a thread-pool slot, a state value queued for the
// agent process) until it settles, and a call that starts 300 commands at once would fork
// 300 processes; one that starts thousands of 64 KB state.set calls without awaiting them
// queued hundreds of MB in the agent process. A call may hold at most
// limits.operationsPerCall of them and a plugin (all its calls) limits.operationsPerPlugin;
// the excess is refused at once with TOO_MANY_OPERATIONS, so the plugin can wait for some to
// finish and try again.
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import type { CallState } from '../call-state.ts'
import type { PluginInstance } from '../plugin-instance.ts'

/** The capabilities that hold host resources while they run. */
export const COUNTED_OPERATIONS: ReadonlySet<string> = new Set([
  'exec',
  'fetch',
  'fs.readText',
  'fs.list',
  'fs.writeText',
  'state.get',
  'state.set',
  'state.delete',
  // A query, a LISTEN or a watch being set up, a message being sent: each holds a socket or
  // a watcher. (An open stream is capped apart, per call: subscriptions.ts.)
  'sql.query',
  'sql.listen',
  'fs.watch',
  'smtp.send',
])

/** Runs `start` if the call and its plugin have room for one more operation in flight. */
export function withinOperationLimits(
  plugin: PluginInstance,
  call: CallState,
  cap: string,
  start: () => unknown,
): unknown {
  const { operationsPerCall, operationsPerPlugin } = plugin.spec.limits
  if (call.operationsInFlight >= operationsPerCall) {
    throw tooMany(
      cap,
      `this call already has ${call.operationsInFlight}`,
      operationsPerCall,
      'operationsPerCall',
    )
  }
  if (plugin.operationsInFlight >= operationsPerPlugin) {
    throw tooMany(
      cap,
      `${plugin.spec.name} already has ${plugin.operationsInFlight} across its calls`,
      operationsPerPlugin,
      'operationsPerPlugin',
    )
  }
  call.operationsInFlight++
  plugin.operationsInFlight++
  const release = () => {
    call.operationsInFlight--
    plugin.operationsInFlight--
  }
  let result: unknown
  try {
    result = start()
  } catch (err) {
    release()
    throw err
  }
  if (result instanceof Promise) {
    result.then(release, release)
    return result
  }
  release()
  return result
}

function tooMany(cap: string, now: string, limit: number, setting: string): Error {
  return sandboxError(
    SandboxErrorCodes.TOO_MANY_OPERATIONS,
    `${cap}: ${now} exec/fetch/fs/state operations in flight; the limit is ${limit} (limits.${setting}); wait for some to finish`,
  )
}
