// Routes a capability call from the isolate to its host implementation, after checking the
// plugin's kind may use it. Returns a value (answered at once) or a promise (settled later).
import { createPermissionGuard, type PermissionGuard } from '@stavily/sdk/manifest'
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import type { PluginEvent, StateOp } from '../../protocol.ts'
import { type CallState, callSignal } from '../call-state.ts'
import type { CapabilityHost, PluginInstance } from '../plugin-instance.ts'
import { str } from './args.ts'
import {
  type Connections,
  credentialSecrets,
  type GrantsWithConnections,
  splitGrants,
} from './connections.ts'
import { denied } from './denied.ts'
import { hostExec } from './exec.ts'
import { hostFetch } from './fetch.ts'
import { checkCwd, list, readText, writeText } from './fs.ts'
import { hostFsWatch } from './fs-watch.ts'
import { hostEmit, hostLog, logExecStderr } from './log-emit.ts'
import { COUNTED_OPERATIONS, withinOperationLimits } from './operation-limits.ts'
import { hostSmtpSend } from './smtp.ts'
import { hostSqlListen, hostSqlQuery } from './sql.ts'
import { closeStream, nextBatch, openStream } from './subscriptions.ts'

const MAX_STATE_KEY = 256
const MAX_SLEEP_MS = 24 * 3600_000

export interface DispatchDeps {
  /** Runs a state operation in the agent process, where the StateStore lives. */
  state(plugin: string, op: StateOp, key: string, value?: unknown): Promise<unknown>
  /** Streams an event of a watch call to the agent process. */
  event(callId: number, event: PluginEvent): void
}

export function createDispatch(deps: DispatchDeps): CapabilityHost {
  const guards = new WeakMap<
    PluginInstance,
    { guard: PermissionGuard; connections: Connections; credentials: Map<string, string> }
  >()
  // The grants travel with the operator's connection and relay definitions beside the names
  // (connections.ts); the guard gets the names, the sql and smtp capabilities the definitions.
  const guardOf = (plugin: PluginInstance) => {
    let g = guards.get(plugin)
    if (!g) {
      const { grants, connections } = splitGrants(plugin.spec.granted as GrantsWithConnections)
      g = {
        guard: createPermissionGuard(plugin.spec.declared, grants),
        connections,
        credentials: credentialSecrets(connections),
      }
      guards.set(plugin, g)
    }
    return g
  }
  const onlyFor = (plugin: PluginInstance, cap: string, kinds: string[]) => {
    if (!kinds.includes(plugin.info.kind)) {
      throw denied(cap, plugin.info.kind, 'kind', `${cap} is not available to ${plugin.info.kind} plugins`)
    }
  }

  function handle(plugin: PluginInstance, call: CallState, cap: string, args: unknown[]): unknown {
    if (COUNTED_OPERATIONS.has(cap)) {
      return withinOperationLimits(plugin, call, cap, () => run(plugin, call, cap, args))
    }
    return run(plugin, call, cap, args)
  }

  return { handle }

  function run(plugin: PluginInstance, call: CallState, cap: string, args: unknown[]): unknown {
    const { guard, connections, credentials } = guardOf(plugin)
    const { limits } = plugin.spec
    // A watch runs until its deadline; its capability calls are bounded by that, not wallMs.
    const deadline =
      call.req.operation === 'watch'
        ? call.req.deadline
        : Math.min(call.req.deadline, Date.now() + limits.wallMs)
    const fsOptions = { guard, limits }
    const sqlOptions = () => ({
      guard,
      limits,
      kind: plugin.info.kind,
      connections: connections.sql,
      secrets: call.req.secrets,
      allowPrivateNetwork: plugin.spec.allowPrivateNetwork,
      deadline,
      signal: callSignal(call),
    })
    switch (cap) {
      case 'log':
        return hostLog(plugin, call, args)
      case 'secrets.get': {
        const name = str('secrets.get name', args[0], 256)
        guard.secret(name)
        const usedBy = credentials.get(name)
        if (usedBy !== undefined) {
          // The host connects with it; plugin code never holds a database or relay password.
          throw denied(
            'secrets',
            name,
            'credential',
            `it is the password of the ${usedBy} the agent grants; the host uses it to connect, plugin code never reads it`,
          )
        }
        const value = call.req.secrets[name]
        if (typeof value !== 'string') {
          throw sandboxError(
            SandboxErrorCodes.SECRET_MISSING,
            `secret ${name} is granted but was not supplied for this call`,
            {
              data: { name },
            },
          )
        }
        return value
      }
      case 'state.get':
      case 'state.set':
      case 'state.delete': {
        const key = str(`${cap} key`, args[0], MAX_STATE_KEY)
        const op = cap.slice(6) as StateOp
        if (op !== 'set') return deps.state(plugin.spec.name, op, key)
        const size = Buffer.byteLength(JSON.stringify(args[1] ?? null))
        if (size > limits.stateValueBytes) {
          throw sandboxError(
            SandboxErrorCodes.STATE_TOO_LARGE,
            `state.set ${key}: ${size} bytes as JSON; the limit per value is ${limits.stateValueBytes}`,
          )
        }
        return deps.state(plugin.spec.name, op, key, args[1] ?? null)
      }
      case 'fetch':
        return hostFetch(args[0], args[1], {
          guard,
          limits,
          allowPrivateNetwork: plugin.spec.allowPrivateNetwork,
          deadline,
          signal: callSignal(call),
        })
      case 'exec':
        onlyFor(plugin, 'exec', ['action', 'sensor'])
        return hostExec(args[0], args[1], args[2], {
          guard,
          limits,
          signal: callSignal(call),
          deadline,
          checkCwd: (path) => checkCwd(path, fsOptions),
        }).then((result) => logExecStderr(call, String(args[0]), result))
      case 'fs.readText':
        return readText(args[0], fsOptions)
      case 'fs.list':
        return list(args[0], fsOptions)
      case 'fs.writeText':
        onlyFor(plugin, 'fs.writeText', ['action', 'output'])
        return writeText(args[0], args[1], fsOptions)
      case 'sql.query':
        return hostSqlQuery(args[0], args[1], args[2], args[3], sqlOptions())
      case 'sql.listen': {
        onlyFor(plugin, 'sql.listen', ['sensor'])
        const o = sqlOptions()
        return openStream(call, cap, limits, (stream) => hostSqlListen(args[0], args[1], o, stream))
      }
      case 'fs.watch':
        onlyFor(plugin, 'fs.watch', ['sensor'])
        return openStream(call, cap, limits, (stream) => hostFsWatch(args[0], args[1], fsOptions, stream))
      case 'stream.next':
        return nextBatch(call, args[0], args[1], deadline)
      case 'stream.close':
        return closeStream(call, args[0])
      case 'smtp.send':
        onlyFor(plugin, 'smtp.send', ['action', 'output'])
        return hostSmtpSend(args[0], args[1], {
          guard,
          limits,
          relays: connections.smtp,
          secrets: call.req.secrets,
          allowPrivateNetwork: plugin.spec.allowPrivateNetwork,
          deadline,
          signal: callSignal(call),
        })
      case 'emit':
        onlyFor(plugin, 'emit', ['sensor'])
        return hostEmit(plugin, call, args, (event) => deps.event(call.req.id, event))
      case 'sleep': {
        onlyFor(plugin, 'sleep', ['sensor'])
        const ms = args[0]
        if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_SLEEP_MS) {
          throw sandboxError(
            SandboxErrorCodes.CAPABILITY_FAILED,
            `sleep ms: expected a number from 0 to ${MAX_SLEEP_MS}`,
          )
        }
        const signal = callSignal(call)
        return new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer)
            call.wakers.delete(done)
            signal.removeEventListener('abort', done)
            resolve()
          }
          const timer = setTimeout(done, Math.min(ms, Math.max(0, deadline - Date.now())))
          call.wakers.add(done)
          signal.addEventListener('abort', done, { once: true })
          if (call.stopping) done()
        })
      }
      case 'isStopping':
        onlyFor(plugin, 'isStopping', ['sensor'])
        return call.stopping
      default:
        throw sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `unknown capability ${JSON.stringify(cap)}`)
    }
  }
}
