// The sandbox as the agent uses it: load, invoke, swap, unload, stats, close. Runs in the
// agent process; the plugins run in the supervised sandbox host child.
//
// sandbox/ is laid out by where its code runs: agent-side/ in the agent process (this
// file's parts, the supervisor, load checks, the state store), host/ in the sandbox host
// child (isolates, scheduling, capabilities), isolate/ inside each plugin's isolate (the
// bootstrap, as source text); protocol.ts is the wire between the two processes.
import { DEFAULT_LIMITS, hostBusyAllowanceMs, SUPERVISOR_DEFAULTS } from '../defaults.ts'
import { fromSerialized, SandboxErrorCodes, sandboxError, type toSerialized } from '../errors.ts'
import type { Sandbox, SandboxOptions } from './agent-side/api.ts'
import { checkInvoke } from './agent-side/invoke-checks.ts'
import { type CheckedSpec, checkLimits, checkSpec } from './agent-side/load-spec.ts'
import { describe, loadRequest, type Route, Routes } from './agent-side/routes.ts'
import { createStateBridge } from './agent-side/state-bridge.ts'
import { createMemoryStateStore } from './agent-side/state-store.ts'
import { Supervisor } from './agent-side/supervisor.ts'
import type {
  CallStats,
  FromHost,
  InvokeResult,
  LogEntry,
  PluginEvent,
  PluginInfo,
  PluginStatsEntry,
} from './protocol.ts'

export type {
  InvokeOptions,
  LoadedPlugin,
  PluginStats,
  Sandbox,
  SandboxOptions,
  SandboxStats,
  SwapResult,
} from './agent-side/api.ts'

interface Pending {
  route: Route
  resolve(r: InvokeResult): void
  reject(e: Error): void
  onEvent?: (e: PluginEvent) => void
  cleanup?: () => void
}

/**
 * Starts the sandbox host process and resolves when it is ready to load plugins.
 *
 * @example
 * ```ts
 * import { createSandbox, createFileStateStore } from '@stavily/agent'
 * const sandbox = await createSandbox({ stateStore: createFileStateStore('/var/lib/stavily/state') })
 * await sandbox.load({ manifest: packageJson, bundle, grants: { net: ['api.example.com'] } })
 * const { output, logs } = await sandbox.invoke('@acme/stavily-plugin-restart', {
 *   input: { service: 'nginx' },
 *   invocationId: 'inv-1',
 *   idempotencyKey: 'step-42',
 *   deadline: Date.now() + 30_000,
 * })
 * await sandbox.close()
 * ```
 */
export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const baseLimits = checkLimits(options.limits, { ...DEFAULT_LIMITS }, 'options.limits')
  const store = options.stateStore ?? createMemoryStateStore()
  const table = new Routes()
  const routes = table.current
  const loaded = table.loaded
  const pending = new Map<number, Pending>()
  let nextId = 1
  let closed = false
  const sup: Supervisor = new Supervisor({
    ...SUPERVISOR_DEFAULTS,
    ...options.supervisor,
    onMessage,
    onDown(reason) {
      options.onDiagnostic?.(`${reason}; restarting it\n`)
      const error = sandboxError(
        SandboxErrorCodes.CRASHED,
        `${reason} during the call; it is being restarted`,
      )
      for (const [id, p] of pending) settle(id, p, undefined, error.toJSON())
      // Draining versions are gone with the host; only current ones are reloaded.
      for (const [key, route] of loaded) {
        if (route.draining) {
          loaded.delete(key)
          route.drained?.()
        }
      }
    },
    async onRestarted() {
      for (const route of routes.values()) {
        try {
          await sup.requestNow({ t: 'load', req: loadRequest(route.key, route.spec) })
        } catch (err) {
          options.onDiagnostic?.(`could not reload ${route.key} after a restart: ${(err as Error).message}\n`)
        }
      }
    },
    onStderr: options.onDiagnostic,
  })
  await sup.start()

  function onMessage(m: FromHost): void {
    switch (m.t) {
      case 'result': {
        const p = pending.get(m.id)
        if (!p) return
        if (m.ok) settle(m.id, p, m.result)
        else settle(m.id, p, undefined, m.error, m.logs, m.stats)
        return
      }
      case 'event':
        pending.get(m.id)?.onEvent?.(m.event)
        return
      case 'state':
        void runState(m)
        return
    }
  }

  function settle(
    id: number,
    p: Pending,
    result: InvokeResult | undefined,
    error?: ReturnType<typeof toSerialized>,
    logs?: LogEntry[],
    stats?: CallStats,
  ): void {
    pending.delete(id)
    p.cleanup?.()
    const route = p.route
    route.inFlight--
    if (result) {
      route.counters.cpuUs += result.stats.cpuUs
      p.resolve(result)
    } else {
      route.counters.failures++
      if (stats) route.counters.cpuUs += stats.cpuUs
      const err = fromSerialized(error!)
      err.logs = logs ?? []
      if (stats) err.stats = stats
      p.reject(err)
    }
    if (route.draining && route.inFlight === 0) void dispose(route)
  }

  async function dispose(route: Route): Promise<void> {
    if (!loaded.has(route.key)) return
    loaded.delete(route.key)
    updateAllowance()
    try {
      await sup.request({ t: 'unload', key: route.key })
    } catch {
      // The host is gone or closing: nothing left to free.
    }
    route.drained?.()
  }

  const runState = createStateBridge({
    store,
    limitsOf: (plugin) => routes.get(plugin)?.spec.limits ?? baseLimits,
    reply: (m) => sup.post(m),
  })

  async function loadVersion(spec: CheckedSpec): Promise<Route> {
    const key = table.newKey(spec)
    // Its load runs under its own CPU limit: patient enough for that before it is loaded.
    sup.sliceAllowanceMs = Math.max(sup.sliceAllowanceMs, hostBusyAllowanceMs(spec.limits.cpuMs))
    const { loadMs, ...info } = (await sup.request({
      t: 'load',
      req: loadRequest(key, spec),
    })) as PluginInfo & {
      loadMs: number
    }
    const route: Route = {
      key,
      spec,
      info,
      inFlight: 0,
      draining: false,
      loadMs,
      counters: { calls: 0, failures: 0, cpuUs: 0 },
    }
    loaded.set(key, route)
    updateAllowance()
    return route
  }

  /** Keeps the heartbeat patient enough for the longest task the host may run (see HOST_SCHEDULE). */
  function updateAllowance(): void {
    sup.sliceAllowanceMs = hostBusyAllowanceMs(table.maxCpuMs(baseLimits.cpuMs))
  }

  function assertOpen(): void {
    if (closed) throw sandboxError(SandboxErrorCodes.CLOSED, 'the sandbox is closed')
  }

  return {
    get hostPid() {
      return sup.pid
    },

    async load(spec) {
      assertOpen()
      const checked = checkSpec(spec, baseLimits)
      const name = checked.manifest.name
      if (routes.has(name)) {
        throw sandboxError(
          SandboxErrorCodes.ALREADY_LOADED,
          `plugin ${name} is already loaded; use swap() to replace it`,
        )
      }
      const route = await loadVersion(checked)
      if (routes.has(name)) {
        // Two loads of one name raced; keep the first.
        await dispose(route)
        throw sandboxError(
          SandboxErrorCodes.ALREADY_LOADED,
          `plugin ${name} is already loaded; use swap() to replace it`,
        )
      }
      routes.set(name, route)
      return describe(route)
    },

    invoke(name, o) {
      try {
        assertOpen()
        const route = routes.get(name)
        if (!route)
          throw sandboxError(SandboxErrorCodes.NOT_LOADED, `plugin ${JSON.stringify(name)} is not loaded`)
        const id = nextId++
        const req = checkInvoke(route, o, id)
        route.inFlight++
        route.counters.calls++
        return new Promise<InvokeResult>((resolve, reject) => {
          const p: Pending = { route, resolve, reject }
          if (o.onEvent) p.onEvent = o.onEvent
          if (o.signal) {
            const signal = o.signal
            const onAbort = () => {
              try {
                sup.post({ t: 'stop', id })
              } catch {
                // Closed.
              }
            }
            if (signal.aborted) queueMicrotask(onAbort)
            else signal.addEventListener('abort', onAbort, { once: true })
            p.cleanup = () => signal.removeEventListener('abort', onAbort)
          }
          pending.set(id, p)
          if (!sup.ready) {
            // The host is (re)starting: the call waits in the queue, but not past its
            // deadline. Taken out of the queue, it provably never ran, so a retry is safe.
            const timer = setTimeout(
              () => {
                if (!sup.unqueue((m) => m.t === 'invoke' && m.req.id === id)) return
                const current = pending.get(id)
                if (current) {
                  settle(id, current, undefined, {
                    code: SandboxErrorCodes.TIMEOUT,
                    message: `the sandbox host was restarting until ${name}'s call deadline; the call did not run`,
                    retryable: true,
                  })
                }
              },
              Math.min(Math.max(0, req.deadline - Date.now()), 2 ** 31 - 1),
            )
            const previous = p.cleanup
            p.cleanup = () => {
              clearTimeout(timer)
              previous?.()
            }
          }
          sup.post({ t: 'invoke', req })
        })
      } catch (err) {
        return Promise.reject(err)
      }
    },

    async swap(spec) {
      assertOpen()
      const checked = checkSpec(spec, baseLimits)
      const name = checked.manifest.name
      const old = routes.get(name)
      if (!old)
        throw sandboxError(SandboxErrorCodes.NOT_LOADED, `plugin ${name} is not loaded; load() it first`)
      // Loading is the health check: the bundle evaluated, defined a valid plugin of the
      // right kind and SDK, and its isolate answered. If it throws, N keeps serving.
      const next = await loadVersion(checked)
      if (routes.get(name) !== old) {
        await dispose(next)
        throw sandboxError(
          SandboxErrorCodes.ALREADY_LOADED,
          `plugin ${name} changed during the swap; retry it`,
        )
      }
      routes.set(name, next)
      old.draining = true
      const drained = new Promise<void>((resolve) => {
        old.drained = resolve
      })
      if (old.inFlight === 0) void dispose(old)
      return { previous: old.spec.manifest.version, current: checked.manifest.version, drained }
    },

    async unload(name) {
      assertOpen()
      const route = routes.get(name)
      if (!route)
        throw sandboxError(SandboxErrorCodes.NOT_LOADED, `plugin ${JSON.stringify(name)} is not loaded`)
      routes.delete(name)
      route.draining = true
      const drained = new Promise<void>((resolve) => {
        route.drained = resolve
      })
      if (route.inFlight === 0) void dispose(route)
      await drained
    },

    async stats() {
      assertOpen()
      const host = (await sup.request({ t: 'stats' })) as {
        plugins: PluginStatsEntry[]
        rssBytes: number
        pid: number
      }
      const byKey = new Map(host.plugins.map((p) => [p.key, p]))
      return {
        hostPid: host.pid,
        hostRssBytes: host.rssBytes,
        hostRestarts: sup.restarts,
        isolatedVm: sup.ivmName,
        plugins: [...routes.values()].map((route) => {
          const h = byKey.get(route.key)
          return {
            name: route.spec.manifest.name,
            version: route.spec.manifest.version,
            calls: route.counters.calls,
            failures: route.counters.failures,
            inFlight: route.inFlight,
            cpuMs: route.counters.cpuUs / 1000,
            heapUsedBytes: h?.heapUsedBytes ?? 0,
            heapLimitBytes: h?.heapLimitBytes ?? route.spec.limits.memoryMb * 1024 * 1024,
            externalBytes: h?.externalBytes ?? 0,
            isolateRestarts: h?.isolateRestarts ?? 0,
          }
        }),
      }
    },

    list() {
      return [...routes.values()].map(describe)
    },

    async close() {
      if (closed) return
      closed = true
      const error = sandboxError(SandboxErrorCodes.CLOSED, 'the sandbox was closed during the call').toJSON()
      for (const [id, p] of pending) settle(id, p, undefined, error)
      await sup.close()
    },
  }
}
