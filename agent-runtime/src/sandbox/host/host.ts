// The sandbox host: runs in the child process, owns the isolates, answers the supervisor.
import { SandboxErrorCodes, sandboxError, toSerialized } from '../../errors.ts'
import type { Ivm } from '../../isolated-vm.ts'
import type { FromHost, PluginStatsEntry, StateOp, ToHost } from '../protocol.ts'
import { createDispatch } from './capabilities/dispatch.ts'
import { PluginInstance } from './plugin-instance.ts'
import { SparePool } from './runtime.ts'
import { SliceScheduler } from './slice-scheduler.ts'

export class SandboxHost {
  private readonly plugins = new Map<string, PluginInstance>()
  /** Which plugin runs each call in flight, for stop(). */
  private readonly callPlugin = new Map<number, PluginInstance>()
  private readonly stateWaiters = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>()
  private nextStateRid = 1
  private outbox: FromHost[] = []
  private flushScheduled = false
  private readonly dispatch

  private readonly pool: SparePool
  /** Runs plugin code (loads, slices) in turns, with the event loop in between. */
  private readonly scheduler = new SliceScheduler()
  /** The scheduler's owner for loads: they take turns with the plugins' slices. */
  private readonly loads = {}

  constructor(
    ivm: Ivm,
    private readonly send: (batch: FromHost[]) => void,
    options: { spareIsolates?: boolean } = {},
  ) {
    this.pool = new SparePool(ivm, options.spareIsolates ?? true)
    this.dispatch = createDispatch({
      state: (plugin, op, key, value) => this.stateCall(plugin, op, key, value),
      event: (id, event) => this.post({ t: 'event', id, event }),
    })
  }

  /** Queues a message; all messages queued in one turn leave in one IPC write. */
  post(message: FromHost): void {
    this.outbox.push(message)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      queueMicrotask(() => this.flush())
    }
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.outbox.length === 0) return
    const batch = this.outbox
    this.outbox = []
    this.send(batch)
  }

  handle(batch: ToHost[]): void {
    for (const m of batch) {
      try {
        this.handleOne(m)
      } catch (err) {
        // A bug here must not take the host down with every other plugin in it.
        if ('rid' in m && m.t !== 'state-reply')
          this.post({ t: 'reply', rid: m.rid, ok: false, error: toSerialized(err) })
      }
    }
  }

  private handleOne(m: ToHost): void {
    switch (m.t) {
      case 'invoke': {
        const plugin = this.plugins.get(m.req.key)
        if (!plugin) {
          this.post({
            t: 'result',
            id: m.req.id,
            ok: false,
            error: sandboxError(
              SandboxErrorCodes.NOT_LOADED,
              `plugin ${m.req.name} is not loaded in the sandbox host`,
            ).toJSON(),
            logs: [],
            stats: { cpuUs: 0, wallMs: 0 },
          })
          return
        }
        this.callPlugin.set(m.req.id, plugin)
        plugin.invoke(m.req)
        return
      }
      case 'ping':
        this.post({ t: 'pong', n: m.n })
        return
      case 'load': {
        this.scheduler.run(this.loads, () => {
          try {
            this.load(m)
          } catch (err) {
            this.post({ t: 'reply', rid: m.rid, ok: false, error: toSerialized(err) })
          }
        })
        return
      }
      case 'unload': {
        const plugin = this.plugins.get(m.key)
        this.plugins.delete(m.key)
        plugin?.dispose(sandboxError(SandboxErrorCodes.NOT_LOADED, `${m.key} was unloaded`).toJSON())
        this.pool.retain(new Set([...this.plugins.values()].map((p) => p.spec.limits.memoryMb)))
        this.post({ t: 'reply', rid: m.rid, ok: true })
        return
      }
      case 'stop':
        this.callPlugin.get(m.id)?.stop(m.id)
        return
      case 'stats': {
        const entries: PluginStatsEntry[] = [...this.plugins.values()].map((p) => {
          const heap = p.heap()
          return {
            key: p.spec.key,
            name: p.spec.name,
            version: p.spec.version,
            heapUsedBytes: heap.used,
            heapLimitBytes: heap.limit,
            externalBytes: heap.external,
            cpuMs: p.counters.cpuMs,
            calls: p.counters.calls,
            failures: p.counters.failures,
            inFlight: p.inFlight,
            isolateRestarts: p.counters.isolateRestarts,
          }
        })
        this.post({
          t: 'reply',
          rid: m.rid,
          ok: true,
          value: { plugins: entries, rssBytes: process.memoryUsage().rss, pid: process.pid },
        })
        return
      }
      case 'state-reply': {
        const waiter = this.stateWaiters.get(m.rid)
        if (!waiter) return
        this.stateWaiters.delete(m.rid)
        if (m.ok) waiter.resolve(m.value)
        else waiter.reject(m.error)
        return
      }
    }
  }

  private load(m: Extract<ToHost, { t: 'load' }>): void {
    if (this.plugins.has(m.req.key)) {
      throw sandboxError(SandboxErrorCodes.ALREADY_LOADED, `${m.req.key} is already loaded`)
    }
    const plugin = new PluginInstance(
      m.req,
      this.pool,
      this.dispatch,
      (call, outcome) => {
        this.callPlugin.delete(call.req.id)
        if (outcome.ok) this.post({ t: 'result', id: call.req.id, ok: true, result: outcome.result })
        else
          this.post({
            t: 'result',
            id: call.req.id,
            ok: false,
            error: outcome.error,
            logs: outcome.logs,
            stats: outcome.stats,
          })
      },
      this.scheduler,
    )
    const started = performance.now()
    const info = plugin.load()
    this.plugins.set(m.req.key, plugin)
    this.post({
      t: 'reply',
      rid: m.rid,
      ok: true,
      value: { ...info, loadMs: performance.now() - started },
    })
  }

  private stateCall(plugin: string, op: StateOp, key: string, value?: unknown): Promise<unknown> {
    const rid = this.nextStateRid++
    return new Promise((resolve, reject) => {
      this.stateWaiters.set(rid, { resolve, reject })
      this.post({ t: 'state', rid, plugin, op, key, ...(op === 'set' ? { value } : {}) })
    })
  }
}
