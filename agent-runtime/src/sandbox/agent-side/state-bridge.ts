// ctx.state as the agent process serves it: the sandbox host asks (a 'state' message), the
// agent runs the operation against its StateStore, checks the plugin's total size, and
// replies ('state-reply'). One plugin's operations run one after another, so the size
// check stays true between its read and its write.
import type { PluginLimits } from '../../defaults.ts'
import { SandboxErrorCodes, sandboxError, toSerialized } from '../../errors.ts'
import type { StateOp, ToHost } from '../protocol.ts'
import type { StateStore, StateValue } from './state-store.ts'

export interface StateBridgeOptions {
  store: StateStore
  /** The limits of the plugin (its current version's), for the total size check. */
  limitsOf(plugin: string): PluginLimits
  /** Sends the reply to the host; throws when the sandbox is closed. */
  reply(message: Extract<ToHost, { t: 'state-reply' }>): void
}

export type StateRequest = { rid: number; plugin: string; op: StateOp; key: string; value?: unknown }

export function createStateBridge(o: StateBridgeOptions): (request: StateRequest) => Promise<void> {
  const chains = new Map<string, Promise<unknown>>()

  async function apply({ plugin, op, key, value }: StateRequest): Promise<unknown> {
    if (op === 'get') return o.store.get(plugin, key)
    if (op === 'delete') return o.store.delete(plugin, key)
    const limit = o.limitsOf(plugin).stateTotalBytes
    const size = Buffer.byteLength(key) + Buffer.byteLength(JSON.stringify(value))
    const old = await o.store.get(plugin, key)
    const oldSize = old === undefined ? 0 : Buffer.byteLength(key) + Buffer.byteLength(JSON.stringify(old))
    const total = (await o.store.usage(plugin)) - oldSize + size
    if (total > limit) {
      throw sandboxError(
        SandboxErrorCodes.STATE_TOO_LARGE,
        `state.set ${key}: ${plugin}'s state would take ${total} bytes; the limit is ${limit}`,
      )
    }
    return o.store.set(plugin, key, value as StateValue)
  }

  return async (request) => {
    const prev = chains.get(request.plugin) ?? Promise.resolve()
    const run = () => apply(request)
    const next = prev.then(run, run)
    chains.set(
      request.plugin,
      next.catch(() => {}),
    )
    try {
      const result = await next
      o.reply({ t: 'state-reply', rid: request.rid, ok: true, value: result })
    } catch (err) {
      try {
        o.reply({ t: 'state-reply', rid: request.rid, ok: false, error: toSerialized(err) })
      } catch {
        // Closed meanwhile.
      }
    }
  }
}
