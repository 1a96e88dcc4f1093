// The sandbox's public API as the agent sees it: options, results, stats, and the Sandbox
// interface createSandbox returns.
import type { PluginLimits, SupervisorSettings } from '../../defaults.ts'
import type { InvokeResult, Operation, PluginEvent, PluginKind } from '../protocol.ts'
import type { PluginSpec } from './load-spec.ts'
import type { StateStore } from './state-store.ts'

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
