// Routes a capability call from the isolate to its host implementation, after checking the
// plugin's kind may use it. Returns a value (answered at once) or a promise (settled later).
import { createPermissionGuard, type PermissionGuard } from '@stavily/sdk/manifest'
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import type { PluginEvent, StateOp } from '../../protocol.ts'
import { type CallState, callSignal } from '../call-state.ts'
import type { CapabilityHost, PluginInstance } from '../plugin-instance.ts'
import { str } from './args.ts'
import { denied } from './denied.ts'
import { hostExec } from './exec.ts'
import { hostFetch } from './fetch.ts'
import { checkCwd, list, readText, writeText } from './fs.ts'
import { hostEmit, hostLog, logExecStderr } from './log-emit.ts'
import { COUNTED_OPERATIONS, withinOperationLimits } from './operation-limits.ts'

const MAX_STATE_KEY = 256
const MAX_SLEEP_MS = 24 * 3600_000

export interface DispatchDeps {
  /** Runs a state operation in the agent process, where the StateStore lives. */
  state(plugin: string, op: StateOp, key: string, value?: unknown): Promise<unknown>
  /** Streams an event of a watch call to the agent process. */
  event(callId: number, event: PluginEvent): void
}

export function createDispatch(deps: DispatchDeps): CapabilityHost {
  const guards = new WeakMap<PluginInstance, PermissionGuard>()
  const guardOf = (plugin: PluginInstance) => {
    let g = guards.get(plugin)
    if (!g) {
      g = createPermissionGuard(plugin.spec.declared, plugin.spec.granted)
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
    const guard = guardOf(plugin)
    const { limits } = plugin.spec
    const deadline = Math.min(call.req.deadline, Date.now() + limits.wallMs)
    const fsOptions = { guard, limits }
    switch (cap) {
      case 'log':
        return hostLog(plugin, call, args)
      case 'secrets.get': {
        const name = str('secrets.get name', args[0], 256)
        guard.secret(name)
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
        onlyFor(plugin, 'exec', ['action'])
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
