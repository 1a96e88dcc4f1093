// An isolate with its context and the bootstrap evaluated: everything a plugin needs
// except its own bundle. Prepared ahead of time by the spare pool, so loading a plugin
// costs only compiling and running its bundle.
import type { IsolatedVm, Ivm } from '../../isolated-vm.ts'
import {
  BOOTSTRAP_SOURCE,
  HOST_CALL_GLOBAL,
  HOST_DONE_GLOBAL,
  HostReply,
  RUNTIME_GLOBAL,
} from '../isolate/bootstrap.ts'

/** Where the isolate's two host callbacks go; set when a plugin takes the runtime. */
export interface RuntimeHandler {
  onHostCall(callId: unknown, cap: unknown, args: unknown): string
  onDone(callId: unknown, report: unknown): void
}

export interface Runtime {
  readonly isolate: IsolatedVm.Isolate
  readonly context: IsolatedVm.Context
  readonly memoryMb: number
  readonly capture: IsolatedVm.Reference
  readonly start: IsolatedVm.Reference
  readonly settle: IsolatedVm.Reference
  readonly forget: IsolatedVm.Reference
  /** Routes the host callbacks to a plugin instance. */
  bind(handler: RuntimeHandler): void
}

/** The bootstrap is ours and small; this only guards against a broken build of it. */
const BOOTSTRAP_TIMEOUT_MS = 1_000

type CachedScript = IsolatedVm.Script & { cachedData?: IsolatedVm.ExternalCopy<ArrayBuffer> }
let bootstrapCache: IsolatedVm.ExternalCopy<ArrayBuffer> | undefined

export function prepareRuntime(ivm: Ivm, memoryMb: number): Runtime {
  const isolate = new ivm.Isolate({
    memoryLimit: memoryMb,
    // V8 lost control of this isolate; the process cannot be trusted any more. The
    // supervisor restarts the host and fails the calls in flight as retryable.
    onCatastrophicError: () => process.abort(),
  })
  try {
    const context = isolate.createContextSync()
    let handler: RuntimeHandler | undefined
    const global = context.global
    global.setSync(
      HOST_CALL_GLOBAL,
      new ivm.Callback((callId: unknown, cap: unknown, args: unknown) =>
        handler
          ? handler.onHostCall(callId, cap, args)
          : `${HostReply.ERROR}{"code":"STAVILY_ERR_SANDBOX_CAPABILITY_FAILED","message":"not ready","retryable":false}`,
      ),
    )
    global.setSync(
      HOST_DONE_GLOBAL,
      new ivm.Callback((callId: unknown, report: unknown) => handler?.onDone(callId, report)),
    )
    const bootstrap = isolate.compileScriptSync(BOOTSTRAP_SOURCE, {
      filename: 'stavily:bootstrap',
      ...(bootstrapCache ? { cachedData: bootstrapCache } : { produceCachedData: true }),
    }) as CachedScript
    if (!bootstrapCache && bootstrap.cachedData) bootstrapCache = bootstrap.cachedData
    bootstrap.runSync(context, { timeout: BOOTSTRAP_TIMEOUT_MS, release: true })
    const runtime = global.getSync(RUNTIME_GLOBAL, { reference: true }) as IsolatedVm.Reference
    global.deleteSync(RUNTIME_GLOBAL)
    const capture = runtime.getSync('capture', { reference: true }) as IsolatedVm.Reference
    const start = runtime.getSync('start', { reference: true }) as IsolatedVm.Reference
    const settle = runtime.getSync('settle', { reference: true }) as IsolatedVm.Reference
    const forget = runtime.getSync('forget', { reference: true }) as IsolatedVm.Reference
    runtime.release()
    return {
      isolate,
      context,
      memoryMb,
      capture,
      start,
      settle,
      forget,
      bind(h) {
        handler = h
      },
    }
  } catch (err) {
    if (!isolate.isDisposed) isolate.dispose()
    throw err
  }
}

/**
 * Keeps one prepared runtime per memory limit in use, made while the host is idle
 * (setImmediate), so the next load or isolate recreation skips isolate creation (the larger
 * part of a cold load).
 */
export class SparePool {
  private readonly spares = new Map<number, Runtime>()
  private readonly wanted = new Set<number>()
  private scheduled = false
  /** Kept even when no plugin uses it now: an agent that unloads one plugin loads the next. */
  private lastTaken: number | undefined

  constructor(
    private readonly ivm: Ivm,
    private readonly enabled: boolean,
  ) {}

  take(memoryMb: number): Runtime {
    const spare = this.spares.get(memoryMb)
    this.spares.delete(memoryMb)
    this.lastTaken = memoryMb
    if (this.enabled) {
      this.wanted.add(memoryMb)
      this.schedule()
    }
    return spare && !spare.isolate.isDisposed ? spare : prepareRuntime(this.ivm, memoryMb)
  }

  /** Memory limits no loaded plugin uses any more (except the last one taken) get no spare. */
  retain(memoryLimitsInUse: Set<number>): void {
    for (const mb of [...this.wanted]) {
      if (memoryLimitsInUse.has(mb) || mb === this.lastTaken) continue
      this.wanted.delete(mb)
      const spare = this.spares.get(mb)
      this.spares.delete(mb)
      if (spare && !spare.isolate.isDisposed) spare.isolate.dispose()
    }
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    // After the current batch of messages: a spare never delays a call waiting to run.
    setImmediate(() => {
      this.scheduled = false
      for (const mb of this.wanted) {
        if (this.spares.has(mb)) continue
        try {
          this.spares.set(mb, prepareRuntime(this.ivm, mb))
        } catch {
          // Made on demand instead.
        }
        // One per turn, so calls are served in between.
        this.schedule()
        return
      }
    })
  }

  dispose(): void {
    for (const spare of this.spares.values()) if (!spare.isolate.isDisposed) spare.isolate.dispose()
    this.spares.clear()
    this.wanted.clear()
  }
}
