// What the sandbox host keeps about one call while it runs.
import type { SerializedError } from '../../errors.ts'
import type { InvokeRequest, LogEntry, PluginEvent } from '../protocol.ts'

export interface CallState {
  readonly req: InvokeRequest
  /** performance.now() at start. */
  readonly startedAt: number
  /** CPU time used inside the isolate so far, ms. */
  cpuUsedMs: number
  logs: LogEntry[]
  logBytes: number
  events: PluginEvent[]
  /** Events emitted (collected or streamed) in this call, or in a watch's current window. */
  eventsEmitted: number
  /** JSON size of those events together, bytes. */
  eventBytesEmitted: number
  /** A watch's budget window: when it began (performance.now()) and the CPU used in it, ms. */
  windowStart: number
  windowCpuMs: number
  /** A limit the host saw exceeded; it wins over whatever the plugin threw after it. */
  limitHit: SerializedError | undefined
  done: boolean
  /** Aborts the call's host work (fetch, exec, sleep) when it ends; made on first use (callSignal). */
  abort: AbortController | undefined
  wallTimer: NodeJS.Timeout | undefined
  /** Ends a stopped call that did not return within the stop grace (not watch). */
  stopTimer: NodeJS.Timeout | undefined
  /** Capability operations started and not yet settled into the isolate. */
  openOps: number
  /** exec/fetch/fs/state operations whose host work is still running (operation-limits.ts). */
  operationsInFlight: number
  /** Set by stop(): ctx.isStopping() turns true; a call other than watch loses its host work. */
  stopping: boolean
  /** Sleeping ctx.sleep() calls, woken early by stop(). */
  readonly wakers: Set<() => void>
}

export function newCallState(req: InvokeRequest): CallState {
  return {
    req,
    startedAt: performance.now(),
    cpuUsedMs: 0,
    logs: [],
    logBytes: 0,
    events: [],
    eventsEmitted: 0,
    eventBytesEmitted: 0,
    windowStart: performance.now(),
    windowCpuMs: 0,
    limitHit: undefined,
    done: false,
    abort: undefined,
    wallTimer: undefined,
    stopTimer: undefined,
    openOps: 0,
    operationsInFlight: 0,
    stopping: false,
    wakers: new Set(),
  }
}

/** Whether the call's host work is over: it ended, or (other than a watch) it was stopped. */
export function hostWorkEnded(call: CallState): boolean {
  return call.done || (call.stopping && call.req.operation !== 'watch')
}

/** The signal that aborts the call's host work when the call ends or is stopped. */
export function callSignal(call: CallState): AbortSignal {
  // Created only for calls that use a capability: an AbortController per trivial call is
  // a measurable share of the invoke cost.
  call.abort ??= new AbortController()
  if (hostWorkEnded(call)) call.abort.abort()
  return call.abort.signal
}

/**
 * A watch's CPU and events are budgeted per window (limits.watchWindowMs), not per call:
 * starts a new window when the current one is over.
 */
export function rollWatchWindow(call: CallState, windowMs: number): void {
  const now = performance.now()
  if (now - call.windowStart < windowMs) return
  call.windowStart = now
  call.windowCpuMs = 0
  call.eventsEmitted = 0
  call.eventBytesEmitted = 0
}
