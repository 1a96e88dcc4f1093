// The sandbox as the agent uses it: load, invoke, swap, unload, stats, close. Runs in the
// agent process; the plugins run in the supervised sandbox host child.
import {
  DEFAULT_LIMITS,
  hostBusyAllowanceMs,
  type PluginLimits,
  SUPERVISOR_DEFAULTS,
  type SupervisorSettings,
} from '../defaults.ts'
import { fromSerialized, SandboxErrorCodes, sandboxError, toSerialized } from '../errors.ts'
import { type CheckedSpec, checkLimits, checkSpec, type PluginSpec } from './load-spec.ts'
import type {
  CallStats,
  FromHost,
  InvokeRequest,
  InvokeResult,
  LogEntry,
  Operation,
  PluginEvent,
  PluginInfo,
  PluginKind,
  PluginStatsEntry,
  StateOp,
} from './protocol.ts'
import { createMemoryStateStore, type StateStore, type StateValue } from './state-store.ts'
import { Supervisor } from './supervisor.ts'

export interface SandboxOptions {
  /** Defaults for every plugin's limits (each plugin's `limits` override these). */
  limits?: Partial<PluginLimits>
  /** Where ctx.state lives; in memory by default. */
  stateStore?: StateStore
  /** Heartbeat and restart policy of the sandbox host process. */
  supervisor?: Partial<SupervisorSettings>
  /** Diagnostics of the sandbox host (its stderr, restarts). */
  onDiagnostic?(text: string): void
}

export interface InvokeOptions {
  /** Handler to call; by default `run` (action), `send` (output), `check` (sensor). */
  operation?: Operation
  input?: unknown
  config?: unknown
  /** The secrets this call may read (the guard still filters by declared ∩ granted). */
  secrets?: Record<string, string>
  invocationId: string
  idempotencyKey: string
  /** Epoch ms after which the call fails with STAVILY_ERR_SANDBOX_TIMEOUT. */
  deadline?: number
  /** Receives events as they are emitted (then they are not collected in the result). */
  onEvent?(event: PluginEvent): void
  /**
   * Aborting stops the call: ctx.isStopping() turns true and ctx.sleep wakes; any operation
   * but watch also has its commands and fetches ended, and fails with
   * STAVILY_ERR_SANDBOX_STOPPED if it does not return within 2 s.
   */
  signal?: AbortSignal
}

export interface LoadedPlugin {
  /** Time the sandbox host spent creating the isolate and evaluating the bundle, ms. */
  loadMs: number
  name: string
  version: string
  kind: PluginKind
  operations: Operation[]
  sdkApiVersion: string
}

export interface PluginStats {
  name: string
  version: string
  calls: number
  failures: number
  inFlight: number
  cpuMs: number
  heapUsedBytes: number
  heapLimitBytes: number
  externalBytes: number
  isolateRestarts: number
}

export interface SandboxStats {
  hostPid: number | undefined
  hostRssBytes: number
  hostRestarts: number
  isolatedVm: string | undefined
  plugins: PluginStats[]
}

export interface SwapResult {
  previous: string
  current: string
  /** Resolves when the previous version has finished its calls and was disposed. */
  drained: Promise<void>
}

export interface Sandbox {
  /**
   * Checks the manifest, grants and limits, evaluates the bundle in a new isolate and checks
   * the definition (kind, SDK API, handlers, schemas). Rejects with the reason otherwise.
   */
  load(spec: PluginSpec): Promise<LoadedPlugin>
  /**
   * Runs one handler call. Rejects with a SandboxError whose `code` names what went wrong,
   * `retryable` says whether running it again may help, and `logs`/`stats` tell what the
   * call did before it failed.
   */
  invoke(name: string, options: InvokeOptions): Promise<InvokeResult>
  /**
   * Loads a new version of a loaded plugin beside the old one; resolves once it takes the
   * new calls. The old one finishes its calls, then is disposed (`drained`). If the new
   * version fails to load, this rejects and the old one keeps serving.
   */
  swap(spec: PluginSpec): Promise<SwapResult>
  /** Stops routing calls to the plugin, waits for its calls in flight, disposes it. */
  unload(name: string): Promise<void>
  /** Per-plugin calls, failures, CPU and heap; the host's pid, RSS and restarts. */
  stats(): Promise<SandboxStats>
  /** The plugins that take calls now (one version per name), e.g. to reconcile a desired set. */
  list(): LoadedPlugin[]
  close(): Promise<void>
  /** PID of the sandbox host process (undefined while it restarts). */
  readonly hostPid: number | undefined
}

interface Route {
  key: string
  spec: CheckedSpec
  info: PluginInfo
  inFlight: number
  draining: boolean
  /** Time the host took to create the isolate and evaluate the bundle, ms. */
  loadMs: number
  drained?: () => void
  counters: { calls: number; failures: number; cpuUs: number }
}

interface Pending {
  route: Route
  resolve(r: InvokeResult): void
  reject(e: Error): void
  onEvent?: (e: PluginEvent) => void
  cleanup?: () => void
}

const DEFAULT_OPERATION: Record<PluginKind, Operation> = { action: 'run', output: 'send', sensor: 'check' }
const ID_PATTERN = /^[A-Za-z0-9._:@/-]{1,200}$/

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
  const routes = new Map<string, Route>()
  /** Every version the host has loaded, current or draining, by key. */
  const loaded = new Map<string, Route>()
  const pending = new Map<number, Pending>()
  const stateChains = new Map<string, Promise<unknown>>()
  let nextId = 1
  let nextKey = 1
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
        void runState(m.rid, m.plugin, m.op, m.key, m.value)
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

  async function runState(
    rid: number,
    plugin: string,
    op: StateOp,
    key: string,
    value: unknown,
  ): Promise<void> {
    // One plugin's state operations run one after another, so the size check stays true.
    const prev = stateChains.get(plugin) ?? Promise.resolve()
    const run = async () => {
      const limits = routes.get(plugin)?.spec.limits ?? baseLimits
      if (op === 'get') return store.get(plugin, key)
      if (op === 'delete') return store.delete(plugin, key)
      const size = Buffer.byteLength(key) + Buffer.byteLength(JSON.stringify(value))
      const old = await store.get(plugin, key)
      const oldSize = old === undefined ? 0 : Buffer.byteLength(key) + Buffer.byteLength(JSON.stringify(old))
      const total = (await store.usage(plugin)) - oldSize + size
      if (total > limits.stateTotalBytes) {
        throw sandboxError(
          SandboxErrorCodes.STATE_TOO_LARGE,
          `state.set ${key}: ${plugin}'s state would take ${total} bytes; the limit is ${limits.stateTotalBytes}`,
        )
      }
      return store.set(plugin, key, value as StateValue)
    }
    const next = prev.then(run, run)
    stateChains.set(
      plugin,
      next.catch(() => {}),
    )
    try {
      const result = await next
      sup.post({ t: 'state-reply', rid, ok: true, value: result })
    } catch (err) {
      try {
        sup.post({ t: 'state-reply', rid, ok: false, error: toSerialized(err) })
      } catch {
        // Closed meanwhile.
      }
    }
  }

  function loadRequest(key: string, spec: CheckedSpec) {
    return {
      key,
      name: spec.manifest.name,
      version: spec.manifest.version,
      kind: spec.manifest.kind,
      bundle: spec.bundle,
      limits: spec.limits,
      declared: spec.manifest.permissions,
      granted: spec.grants,
      allowPrivateNetwork: spec.allowPrivateNetwork,
    }
  }

  async function loadVersion(spec: CheckedSpec): Promise<Route> {
    const key = `${spec.manifest.name}@${spec.manifest.version}#${nextKey++}`
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
    let max = baseLimits.cpuMs
    for (const route of loaded.values()) max = Math.max(max, route.spec.limits.cpuMs)
    sup.sliceAllowanceMs = hostBusyAllowanceMs(max)
  }

  function describe(route: Route): LoadedPlugin {
    return {
      name: route.spec.manifest.name,
      version: route.spec.manifest.version,
      kind: route.info.kind,
      operations: route.info.operations,
      sdkApiVersion: route.info.sdkApiVersion,
      loadMs: route.loadMs,
    }
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
        if (o === null || typeof o !== 'object') throw invalid('options', 'an object', o)
        if (typeof o.invocationId !== 'string' || !ID_PATTERN.test(o.invocationId)) {
          throw invalid(
            'invocationId',
            'a string of 1-200 characters from A-Z a-z 0-9 . _ : @ / -',
            o.invocationId,
          )
        }
        if (typeof o.idempotencyKey !== 'string' || !ID_PATTERN.test(o.idempotencyKey)) {
          throw invalid(
            'idempotencyKey',
            'a string of 1-200 characters from A-Z a-z 0-9 . _ : @ / -',
            o.idempotencyKey,
          )
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
            `${name} already has ${route.inFlight} calls in flight; its limit is ${route.spec.limits.concurrency}`,
          )
        }
        const id = nextId++
        const req: InvokeRequest = {
          id,
          key: route.key,
          name,
          operation,
          input: o.input,
          config: o.config ?? {},
          secrets,
          invocationId: o.invocationId,
          idempotencyKey: o.idempotencyKey,
          // A watch without a deadline runs until its signal aborts it.
          deadline:
            o.deadline ??
            (operation === 'watch' ? Number.MAX_SAFE_INTEGER : Date.now() + route.spec.limits.wallMs),
          streamEvents: typeof o.onEvent === 'function',
        }
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

function invalid(field: string, expected: string, got: unknown): Error {
  const shown =
    typeof got === 'string' ? JSON.stringify(got.slice(0, 80)) : got === null ? 'null' : typeof got
  return sandboxError(
    SandboxErrorCodes.INVALID_ARGUMENT,
    `invoke ${field}: expected ${expected}, got ${shown}`,
  )
}
