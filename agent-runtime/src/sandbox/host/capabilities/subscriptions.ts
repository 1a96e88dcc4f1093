// Streams a sensor reads in its watch loop (ctx.sql.listen, ctx.fs.watch): the host buffers
// what arrives (at most limits.watchQueue items; beyond that the oldest are dropped and
// counted), and `stream.next` hands out a batch as soon as there is one, or an empty batch
// after its timeout or when the call is being stopped. A stream belongs to its call: it is
// closed (its connection or watcher released) when the call ends, and a call holds at most
// limits.operationsPerCall of them.
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import { type CallState, callSignal } from '../call-state.ts'
import { bad, optionalNumber, plainObject } from './args.ts'

const DEFAULT_NEXT_MS = 10_000
const MAX_NEXT_MS = 600_000

export interface Stream<T> {
  push(item: T): void
  /** Ends the stream with an error: the next `next()` rejects with it. */
  fail(error: Error): void
}

interface Entry {
  queue: unknown[]
  dropped: number
  error: Error | undefined
  waiter: (() => void) | undefined
  close: () => void
}

const streams = new WeakMap<CallState, Map<string, Entry>>()
let nextId = 1

/**
 * Opens a stream for `call`: `start` gets the stream to push into and returns how to release
 * its resource. Returns the stream id the isolate uses.
 */
export async function openStream<T>(
  call: CallState,
  cap: string,
  limits: { watchQueue: number; operationsPerCall: number },
  start: (stream: Stream<T>) => Promise<() => void>,
): Promise<string> {
  let mine = streams.get(call)
  if (!mine) {
    mine = new Map()
    streams.set(call, mine)
    const all = mine
    // The call's signal aborts when the call ends (for a watch, not when it is stopping).
    callSignal(call).addEventListener(
      'abort',
      () => {
        for (const entry of all.values()) entry.close()
        all.clear()
      },
      { once: true },
    )
  }
  if (mine.size >= limits.operationsPerCall) {
    throw sandboxError(
      SandboxErrorCodes.TOO_MANY_OPERATIONS,
      `${cap}: this call already has ${mine.size} open streams; the limit is ${limits.operationsPerCall} (limits.operationsPerCall); close one first`,
    )
  }
  const entry: Entry = { queue: [], dropped: 0, error: undefined, waiter: undefined, close: () => {} }
  const wake = () => {
    const w = entry.waiter
    entry.waiter = undefined
    w?.()
  }
  const stream: Stream<T> = {
    push(item) {
      entry.queue.push(item)
      if (entry.queue.length > limits.watchQueue) {
        entry.queue.shift()
        entry.dropped++
      }
      wake()
    },
    fail(error) {
      entry.error ??= error
      wake()
    },
  }
  const release = await start(stream)
  let closed = false
  entry.close = () => {
    if (closed) return
    closed = true
    release()
    wake()
  }
  const id = `s${nextId++}`
  // The call may have ended while the stream was starting.
  if (callSignal(call).aborted) {
    entry.close()
    throw sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `${cap}: the call ended`)
  }
  mine.set(id, entry)
  return id
}

/** `stream.next(id, { timeoutMs, max })`: the buffered items (at most `max`) and how many were dropped. */
export function nextBatch(
  call: CallState,
  idArg: unknown,
  optionsArg: unknown,
  deadline: number,
): Promise<{ items: unknown[]; dropped: number }> {
  const entry = find(call, idArg)
  const options = plainObject('next options', optionsArg) ?? {}
  const timeoutMs =
    optionalNumber('next options.timeoutMs', options.timeoutMs, 0, MAX_NEXT_MS) ?? DEFAULT_NEXT_MS
  const max = optionalNumber('next options.max', options.max, 1, 100_000) ?? 1000
  if (entry.waiter)
    throw bad('next', 'one next() at a time per stream (await the previous one)', 'a second call')
  const take = () => {
    if (entry.queue.length === 0 && entry.error) throw entry.error
    const items = entry.queue.splice(0, Math.floor(max))
    const dropped = entry.dropped
    entry.dropped = 0
    return { items, dropped }
  }
  if (entry.queue.length > 0 || entry.error || call.stopping) return Promise.resolve().then(take)
  const signal = callSignal(call)
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      call.wakers.delete(done)
      signal.removeEventListener('abort', done)
      entry.waiter = undefined
      try {
        resolve(take())
      } catch (err) {
        reject(err)
      }
    }
    const timer = setTimeout(done, Math.max(0, Math.min(timeoutMs, deadline - Date.now())))
    entry.waiter = done
    // stop() wakes sleepers: a watch loop waiting here sees isStopping() at once.
    call.wakers.add(done)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** `stream.close(id)`: releases the stream's connection or watcher. */
export function closeStream(call: CallState, idArg: unknown): void {
  const entry = find(call, idArg)
  entry.close()
  streams.get(call)?.delete(idArg as string)
}

function find(call: CallState, idArg: unknown): Entry {
  const entry = typeof idArg === 'string' ? streams.get(call)?.get(idArg) : undefined
  if (!entry) throw bad('stream', 'a stream opened by this call and not closed', idArg)
  return entry
}
