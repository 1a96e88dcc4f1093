// One loaded plugin version inside the sandbox host: its isolate, its context and the calls
// running in it. All plugin code runs in "slices" the host starts synchronously (the start
// of a call, and each settle of a capability it awaited), each with a timeout equal to the
// call's remaining CPU budget; there are no timers inside the isolate, so no other code of
// the plugin ever runs. Between calls the plugin's module state persists, like a
// long-lived process; each call gets a fresh, frozen ctx.
import { createHash } from 'node:crypto'
import { HOST_SCHEDULE } from '../../defaults.ts'
import { SandboxErrorCodes, type SerializedError, sandboxError, toSerialized } from '../../errors.ts'
import type { IsolatedVm } from '../../isolated-vm.ts'
import { DoneStatus, HostReply } from '../isolate/bootstrap.ts'
import type { InvokeRequest, InvokeResult, LoadRequest, PluginInfo } from '../protocol.ts'
import { type CallState, newCallState, rollWatchWindow } from './call-state.ts'
import { classifyReportedError, clipText } from './classify-error.ts'
import { jsonDeeperThan, MAX_VALUE_DEPTH } from './json-depth.ts'
import { checkPluginInfo } from './plugin-info.ts'
import type { Runtime, RuntimeHandler, SparePool } from './runtime.ts'
import type { SliceScheduler } from './slice-scheduler.ts'
import { validateAgainst } from './validate.ts'

/** What runs the capabilities on the host side (capabilities/dispatch.ts). */
export interface CapabilityHost {
  /** A value now, or a promise the instance settles into the isolate later. Throws to fail. */
  handle(plugin: PluginInstance, call: CallState, cap: string, args: unknown[]): unknown
}

export type CallOutcome =
  | { ok: true; result: InvokeResult }
  | { ok: false; error: SerializedError; logs: InvokeResult['logs']; stats: InvokeResult['stats'] }

const TIMED_OUT = /Script execution timed out/
// setTimeout's ceiling (about 24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1
const DISPOSED = /disposed/i
// forget() only walks the pending operations of one isolate.
const FORGET_TIMEOUT_MS = 100
/** How long a stopped call (not watch) has to return once its host work is ended. */
const STOP_GRACE_MS = 2_000

// V8 code cache by bundle digest, shared by all plugins in this host; bounded so a host that
// sees many versions does not grow without end (Map keeps insertion order: oldest first).
const CODE_CACHE_ENTRIES = 64
const codeCache = new Map<string, IsolatedVm.ExternalCopy<ArrayBuffer>>()
function rememberCode(digest: string, data: IsolatedVm.ExternalCopy<ArrayBuffer>): void {
  codeCache.set(digest, data)
  if (codeCache.size > CODE_CACHE_ENTRIES) {
    const oldest = codeCache.keys().next().value
    if (oldest !== undefined) {
      codeCache.get(oldest)?.release()
      codeCache.delete(oldest)
    }
  }
}

export class PluginInstance implements RuntimeHandler {
  info!: PluginInfo
  private rt: Runtime | undefined
  private readonly calls = new Map<number, CallState>()
  private readonly finished: { call: CallState; status: number; json: string }[] = []
  private nextOpId = 1
  readonly counters = { calls: 0, failures: 0, isolateRestarts: 0, cpuMs: 0 }
  /** exec/fetch/fs/state operations of all its calls whose host work is still running. */
  operationsInFlight = 0

  constructor(
    readonly spec: LoadRequest,
    private readonly pool: SparePool,
    private readonly caps: CapabilityHost,
    private readonly report: (call: CallState, outcome: CallOutcome) => void,
    private readonly scheduler: SliceScheduler,
  ) {}

  get inFlight(): number {
    return this.calls.size
  }

  /** Creates the isolate, evaluates the bundle and reads the definition. Throws LOAD_FAILED. */
  load(): PluginInfo {
    this.rt = this.createRuntime(true)
    return this.info
  }

  private createRuntime(first: boolean): Runtime {
    const { spec } = this
    let rt: Runtime | undefined
    try {
      rt = this.pool.take(spec.limits.memoryMb)
      rt.bind(this)
      // The bundle is the plugin's own code: it runs under the CPU limit like any call.
      // Compiled code is cached by bundle digest: reloads, restarts and swaps back skip parsing.
      const digest = createHash('sha256').update(spec.bundle).digest('base64')
      const cached = codeCache.get(digest)
      const script = rt.isolate.compileScriptSync(spec.bundle, {
        filename: `stavily-plugin:${spec.name}@${spec.version}`,
        ...(cached ? { cachedData: cached } : { produceCachedData: true }),
      }) as IsolatedVm.Script & { cachedData?: IsolatedVm.ExternalCopy<ArrayBuffer> }
      if (!cached && script.cachedData) rememberCode(digest, script.cachedData)
      script.runSync(rt.context, { timeout: spec.limits.cpuMs, release: true })
      const described = rt.capture.applySync(undefined, [spec.limits.outputBytes], {
        timeout: spec.limits.cpuMs,
      }) as string
      if (first) this.info = checkPluginInfo(described, spec)
      return rt
    } catch (err) {
      if (rt && !rt.isolate.isDisposed) rt.isolate.dispose()
      if (err && typeof err === 'object' && 'code' in err) throw err
      // What the bundle threw while loading: its text is the plugin's.
      const message = clipText(err instanceof Error ? err.message : String(err))
      const code = DISPOSED.test(message)
        ? SandboxErrorCodes.MEMORY_LIMIT
        : TIMED_OUT.test(message)
          ? SandboxErrorCodes.CPU_LIMIT
          : SandboxErrorCodes.LOAD_FAILED
      throw sandboxError(code, `plugin ${spec.name}@${spec.version} failed to load: ${message}`, {
        cause: err,
      })
    }
  }

  /** Starts a call; its outcome is reported through `report`. */
  invoke(req: InvokeRequest): void {
    const call = newCallState(req)
    this.counters.calls++
    if (!this.info.operations.includes(req.operation)) {
      this.complete(call, {
        code: SandboxErrorCodes.UNKNOWN_OPERATION,
        message: `${this.spec.name} is a ${this.info.kind} plugin without a "${req.operation}" handler; it has: ${this.info.operations.join(', ') || 'none'}`,
        retryable: false,
      })
      return
    }
    const { payload } = req
    try {
      const size = Buffer.byteLength(payload)
      if (size > this.spec.limits.inputBytes) {
        throw sandboxError(
          SandboxErrorCodes.INPUT_TOO_LARGE,
          `input and config of ${this.spec.name} take ${size} bytes as JSON; the limit is ${this.spec.limits.inputBytes}`,
        )
      }
      // Validate what the plugin will receive: the JSON form (a Date the caller passed is a
      // string by then, an undefined field is gone).
      const sent = JSON.parse(payload) as { input?: unknown; config?: unknown }
      const { schemas } = this.info
      validateAgainst('config', schemas.config, sent.config)
      if (req.operation === 'run' || req.operation === 'send') {
        validateAgainst('input', schemas.input, sent.input)
      }
    } catch (err) {
      this.complete(call, toSerialized(err))
      return
    }
    this.calls.set(req.id, call)
    // Usually at once; in a later turn when the host has been busy for its stretch budget.
    this.scheduler.run(this, () => this.firstSlice(call, payload))
    if (call.done) return
    // Only a call still waiting after its first slice needs a wall-time timer (the first
    // slice itself is bounded by the CPU limit); one still queued gets it too. A watch runs
    // until stopped: only the caller's deadline bounds it, not the per-call wall limit.
    const elapsed = performance.now() - call.startedAt
    const untilDeadline = Math.max(0, req.deadline - Date.now())
    const wallMs =
      req.operation === 'watch'
        ? Math.min(untilDeadline, MAX_TIMER_MS)
        : Math.max(0, Math.min(this.spec.limits.wallMs - elapsed, untilDeadline))
    call.wallTimer = setTimeout(() => {
      this.complete(call, {
        code: SandboxErrorCodes.TIMEOUT,
        message: `${this.spec.name} did not finish within its wall-time limit of ${this.spec.limits.wallMs} ms or its deadline`,
        retryable: true,
      })
    }, wallMs)
  }

  private firstSlice(call: CallState, payload: string): void {
    if (call.done) return
    const { req } = call
    let rt: Runtime
    try {
      rt = this.runtime()
    } catch (err) {
      this.complete(call, toSerialized(err))
      return
    }
    this.slice(call, rt, (timeout) => {
      // A string is the outcome of a handler that returned synchronously.
      const now = rt.start.applySync(undefined, [req.id, req.operation, payload], { timeout }) as unknown
      if (typeof now === 'string') this.finished.push({ call, ...readReport(now) })
    })
  }

  /**
   * The caller stopped this call (an operator cancel, a lost lease, shutdown). A watch sees
   * ctx.isStopping() turn true and returns in its own time. Any other call has no loop that
   * asks: its host work (a command, a fetch, a sleep) is ended now, so a cancelled restart
   * does not run on for minutes, and what it returns within the stop grace is its outcome;
   * after that it ends with STAVILY_ERR_SANDBOX_STOPPED.
   */
  stop(id: number): void {
    const call = this.calls.get(id)
    if (!call || call.stopping) return
    call.stopping = true
    for (const wake of call.wakers) wake()
    if (call.req.operation === 'watch') return
    call.abort?.abort()
    call.stopTimer = setTimeout(() => {
      this.complete(call, {
        code: SandboxErrorCodes.STOPPED,
        message: `${this.spec.name} was stopped by its caller and did not return within ${STOP_GRACE_MS} ms`,
        retryable: false,
      })
    }, STOP_GRACE_MS)
  }

  private runtime(): Runtime {
    if (this.rt && !this.rt.isolate.isDisposed) return this.rt
    // The previous isolate died (memory limit): the next call gets a fresh one.
    this.counters.isolateRestarts++
    this.rt = this.createRuntime(false)
    return this.rt
  }

  /** Runs plugin code synchronously under the call's remaining CPU budget. */
  private slice(call: CallState, rt: Runtime, run: (timeoutMs: number) => void): void {
    // A watch loops for hours: its CPU limit applies to each window, not to the whole call.
    const watch = call.req.operation === 'watch'
    if (watch) rollWatchWindow(call, this.spec.limits.watchWindowMs)
    const remaining = this.spec.limits.cpuMs - (watch ? call.windowCpuMs : call.cpuUsedMs)
    // Spent by what capability calls cost the host (capabilityCallCpuMs), not by a slice.
    if (remaining <= 0) {
      this.onSliceError(call, rt, new Error('Script execution timed out.'))
      this.drainFinished()
      return
    }
    const before = rt.isolate.cpuTime
    try {
      run(Math.max(1, Math.ceil(remaining)))
    } catch (err) {
      this.onSliceError(call, rt, err)
    } finally {
      if (!rt.isolate.isDisposed) {
        const used = Number(rt.isolate.cpuTime - before) / 1e6
        call.cpuUsedMs += used
        call.windowCpuMs += used
        this.counters.cpuMs += used
      }
    }
    this.drainFinished()
  }

  private onSliceError(call: CallState, rt: Runtime, err: unknown): void {
    // An unhandled rejection carries what the plugin rejected with: its text is the plugin's.
    const message = clipText(err instanceof Error ? err.message : String(err))
    if (rt.isolate.isDisposed || DISPOSED.test(message)) {
      // The memory limit disposes the whole isolate: this call hit it, the others lost
      // their isolate with it and may be retried.
      this.complete(call, {
        code: SandboxErrorCodes.MEMORY_LIMIT,
        message: `${this.spec.name} exceeded its memory limit of ${this.spec.limits.memoryMb} MB`,
        retryable: false,
      })
      for (const other of [...this.calls.values()]) {
        this.complete(other, {
          code: SandboxErrorCodes.CRASHED,
          message: `${this.spec.name}'s isolate was disposed because another call exceeded the memory limit`,
          retryable: true,
        })
      }
      if (!rt.isolate.isDisposed) rt.isolate.dispose()
      return
    }
    if (TIMED_OUT.test(message)) {
      const { cpuMs, watchWindowMs } = this.spec.limits
      this.complete(call, {
        code: SandboxErrorCodes.CPU_LIMIT,
        message:
          call.req.operation === 'watch'
            ? `${this.spec.name}'s watch used more than its CPU limit of ${cpuMs} ms within ${watchWindowMs} ms (limits.cpuMs, limits.watchWindowMs)`
            : `${this.spec.name} used more than its CPU limit of ${cpuMs} ms in one call`,
        retryable: false,
      })
      return
    }
    // Anything else is a promise rejection nobody handled: isolated-vm raises it from the
    // slice that ran the microtasks. If the call already returned, it is the plugin's
    // leftover (Node would only warn); otherwise the call fails with it.
    this.drainFinished()
    if (call.done) return
    this.complete(call, {
      code: SandboxErrorCodes.PLUGIN_FAILED,
      message: `${this.spec.name} failed with an unhandled promise rejection: ${message}`,
      retryable: false,
    })
  }

  // Called from inside the isolate (during a slice): only records; the outcome is
  // handled after the slice returns, so its CPU time is counted first.
  onDone(callId: unknown, report: unknown): void {
    const call = typeof callId === 'number' ? this.calls.get(callId) : undefined
    if (!call || call.done || typeof report !== 'string') return
    this.finished.push({ call, ...readReport(report) })
  }

  private drainFinished(): void {
    while (this.finished.length > 0) {
      const { call, status, json } = this.finished.shift()!
      if (call.done) continue
      if (status === DoneStatus.OK) this.succeed(call, json)
      else if (status === DoneStatus.TOO_LARGE) {
        this.complete(call, this.outputTooLarge(Number(json)))
      } else {
        const error = call.limitHit ?? classifyReportedError(json, this.spec.limits.outputBytes)
        this.complete(call, error)
        // The ArrayBuffer allocator failing leaves the isolate alive but full of what the
        // plugin holds on to; start the next call from a fresh one, as after a heap overflow.
        if (error.code === SandboxErrorCodes.MEMORY_LIMIT) this.recycle()
      }
    }
  }

  /** Disposes the isolate (its other calls fail as retryable); the next call gets a new one. */
  private recycle(): void {
    const rt = this.rt
    if (!rt || rt.isolate.isDisposed) return
    for (const other of [...this.calls.values()]) {
      this.complete(other, {
        code: SandboxErrorCodes.CRASHED,
        message: `${this.spec.name}'s isolate was recycled because another call exceeded the memory limit`,
        retryable: true,
      })
    }
    rt.isolate.dispose()
  }

  private outputTooLarge(size: number): SerializedError {
    return {
      code: SandboxErrorCodes.OUTPUT_TOO_LARGE,
      message: `${this.spec.name} returned ${size} bytes of JSON; the output limit is ${this.spec.limits.outputBytes}`,
      retryable: false,
    }
  }

  private succeed(call: CallState, json: string): void {
    if (call.limitHit) {
      this.complete(call, call.limitHit)
      return
    }
    const size = Buffer.byteLength(json)
    if (size > this.spec.limits.outputBytes) {
      this.complete(call, this.outputTooLarge(size))
      return
    }
    if (jsonDeeperThan(json, MAX_VALUE_DEPTH)) {
      this.complete(call, {
        code: SandboxErrorCodes.VALUE_TOO_DEEP,
        message: `${this.spec.name} returned an output that nests arrays and objects deeper than ${MAX_VALUE_DEPTH} levels; return a flatter value`,
        retryable: false,
      })
      return
    }
    let output: unknown
    try {
      output = json === '' ? undefined : JSON.parse(json)
      const op = call.req.operation
      if (op === 'run' || (op === 'send' && output !== undefined)) {
        validateAgainst('output', this.info.schemas.output, output)
      }
    } catch (err) {
      this.complete(call, toSerialized(err))
      return
    }
    this.finish(call, {
      ok: true,
      result: { output, logs: call.logs, events: call.events, stats: this.statsOf(call) },
    })
  }

  /** Fails (or ends) a call; later host results and isolate reports for it are ignored. */
  complete(call: CallState, error: SerializedError): void {
    this.finish(call, { ok: false, error, logs: call.logs, stats: this.statsOf(call) })
  }

  /** Records a limit the call exceeded on the host; the call fails with it. */
  hitLimit(call: CallState, error: SerializedError): void {
    call.limitHit ??= error
  }

  private finish(call: CallState, outcome: CallOutcome): void {
    if (call.done) return
    call.done = true
    if (call.wallTimer) clearTimeout(call.wallTimer)
    if (call.stopTimer) clearTimeout(call.stopTimer)
    this.calls.delete(call.req.id)
    if (!outcome.ok) this.counters.failures++
    if (call.abort && !call.abort.signal.aborted) call.abort.abort()
    // Ended while waiting on capabilities (a timeout): drop the isolate's side of them, or
    // their promises would stay in the isolate for as long as it lives.
    const rt = this.rt
    if (call.openOps > 0 && rt && !rt.isolate.isDisposed) {
      try {
        rt.forget.applySync(undefined, [call.req.id], { timeout: FORGET_TIMEOUT_MS })
      } catch {
        // Only bookkeeping; the isolate is recycled on its next failure anyway.
      }
    }
    this.report(call, outcome)
  }

  private statsOf(call: CallState): InvokeResult['stats'] {
    return { cpuUs: Math.round(call.cpuUsedMs * 1000), wallMs: performance.now() - call.startedAt }
  }

  onHostCall(callId: unknown, cap: unknown, argsJson: unknown): string {
    const call = typeof callId === 'number' ? this.calls.get(callId) : undefined
    if (!call || call.done) {
      return `${HostReply.ERROR}${JSON.stringify({
        code: SandboxErrorCodes.CAPABILITY_FAILED,
        message: 'this call has already finished; its ctx can no longer be used',
        retryable: false,
      })}`
    }
    try {
      // The host's own work for this call counts against the call's CPU budget.
      call.cpuUsedMs += HOST_SCHEDULE.capabilityCallCpuMs
      call.windowCpuMs += HOST_SCHEDULE.capabilityCallCpuMs
      if (typeof cap !== 'string' || typeof argsJson !== 'string') throw new TypeError('malformed host call')
      checkArguments(cap, argsJson, this.spec.limits.argumentBytes)
      const args = JSON.parse(argsJson) as unknown
      if (!Array.isArray(args)) throw new TypeError('malformed host call arguments')
      const value = this.caps.handle(this, call, cap, args)
      if (value instanceof Promise) {
        const opId = this.nextOpId++
        call.openOps++
        value.then(
          (v: unknown) => this.settle(call, opId, true, v === undefined ? '' : JSON.stringify(v)),
          (err: unknown) => this.settle(call, opId, false, JSON.stringify(toSerialized(err))),
        )
        return `${HostReply.PENDING}${opId}`
      }
      return value === undefined ? HostReply.NOTHING : `${HostReply.VALUE}${JSON.stringify(value)}`
    } catch (err) {
      return `${HostReply.ERROR}${JSON.stringify(toSerialized(err))}`
    }
  }

  private settle(call: CallState, opId: number, ok: boolean, json: string): void {
    call.openOps--
    if (call.done) return
    this.scheduler.run(this, () => {
      const rt = this.rt
      if (call.done || !rt || rt.isolate.isDisposed) return
      this.slice(call, rt, (timeout) => {
        rt.settle.applySync(undefined, [opId, ok, json], { timeout })
      })
    })
  }

  heap(): { used: number; limit: number; external: number } {
    const rt = this.rt
    if (!rt || rt.isolate.isDisposed)
      return { used: 0, limit: this.spec.limits.memoryMb * 1024 * 1024, external: 0 }
    const h = rt.isolate.getHeapStatisticsSync()
    return { used: h.used_heap_size, limit: h.heap_size_limit, external: h.externally_allocated_size }
  }

  /** Fails the calls in flight and frees the isolate. */
  dispose(reason: SerializedError): void {
    for (const call of [...this.calls.values()]) this.complete(call, reason)
    const rt = this.rt
    this.rt = undefined
    if (rt && !rt.isolate.isDisposed) rt.isolate.dispose()
  }
}

/** Splits the isolate's report of an outcome: a status digit, then the JSON (or a length). */
function readReport(report: string): { status: number; json: string } {
  return { status: report.charCodeAt(0) - 0x30, json: report.slice(1) }
}

/**
 * Refuses capability arguments too large or too deep for the host before it parses them:
 * they would reach the agent's IPC (log fields, events, state values) and its serializer.
 */
function checkArguments(cap: string, argsJson: string, maxBytes: number): void {
  if (argsJson.length > maxBytes) {
    throw sandboxError(
      SandboxErrorCodes.CAPABILITY_FAILED,
      `${cap}: its arguments take ${argsJson.length} characters as JSON; the limit is ${maxBytes} (limits.argumentBytes)`,
    )
  }
  // The arguments travel as an array: one level more than the values in it.
  if (jsonDeeperThan(argsJson, MAX_VALUE_DEPTH + 1)) {
    throw sandboxError(
      SandboxErrorCodes.VALUE_TOO_DEEP,
      `${cap}: a value passed to it nests arrays and objects deeper than ${MAX_VALUE_DEPTH} levels; pass a flatter value`,
    )
  }
}
