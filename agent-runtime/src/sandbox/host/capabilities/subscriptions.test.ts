import { getEventListeners } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { hostCall } from '../../../../test/helpers/host-plugin.ts'
import { SandboxErrorCodes as C, sandboxError } from '../../../errors.ts'
import { type CallState, callSignal } from '../call-state.ts'
import { closeStream, nextBatch, openStream, type Stream } from './subscriptions.ts'

// The streams a sensor's watch reads (ctx.sql.listen, ctx.fs.watch): buffered up to
// limits.watchQueue (older items dropped and counted), handed out in batches as soon as
// there are any or after a timeout, one reader at a time, at most limits.operationsPerCall
// per call, released when closed or when the call ends.

const LIMITS = { watchQueue: 3, operationsPerCall: 2 }
/** For tests that wait on a wake-up: one that never comes fails here, not at the suite's 30 s. */
const WAIT = 5_000

afterEach(() => {
  vi.useRealTimers()
})

/** Opens a stream on `call`; returns its id, its push side and how often it was released. */
async function open(call: CallState, limits = LIMITS) {
  let stream: Stream<unknown> | undefined
  const state = { released: 0 }
  const id = await openStream(call, 'fs.watch', limits, async (s) => {
    stream = s
    return () => {
      state.released++
    }
  })
  return { id, stream: stream!, state }
}

/** Ends the call as PluginInstance.finish does. */
function end(call: CallState) {
  call.done = true
  call.abort?.abort()
}

function thrown(f: () => unknown) {
  try {
    f()
  } catch (err) {
    const e = err as { code: string; message: string }
    return { code: e.code, message: e.message }
  }
  throw new Error('expected a throw')
}

async function rejection(p: Promise<unknown>) {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

const far = () => Date.now() + 60_000

describe('openStream', () => {
  it('hands out a fresh id per stream', async () => {
    const call = hostCall({ operation: 'watch' })
    const a = await open(call)
    const b = await open(call)
    expect(a.id).toMatch(/^s\d+$/)
    expect(b.id).toMatch(/^s\d+$/)
    expect(a.id).not.toBe(b.id)
  })

  it('holds at most limits.operationsPerCall streams per call; a closed one frees its place', async () => {
    const call = hostCall({ operation: 'watch' })
    const a = await open(call)
    await open(call)
    let started = false
    const refused = await rejection(
      openStream(call, 'sql.listen', LIMITS, async () => {
        started = true
        return () => {}
      }),
    )
    expect(refused).toMatchObject({
      code: C.TOO_MANY_OPERATIONS,
      message:
        'sql.listen: this call already has 2 open streams; the limit is 2 (limits.operationsPerCall); close one first',
    })
    expect(started).toBe(false)
    // Another call has its own places.
    await open(hostCall({ operation: 'watch' }))
    closeStream(call, a.id)
    await open(call)
  })

  it('releases a stream whose call ended while it was starting, and fails', async () => {
    const call = hostCall({ operation: 'watch' })
    let released = 0
    const error = await rejection(
      openStream(call, 'sql.listen', LIMITS, async () => {
        end(call)
        return () => {
          released++
        }
      }),
    )
    expect(error).toMatchObject({ code: C.CAPABILITY_FAILED, message: 'sql.listen: the call ended' })
    expect(released).toBe(1)
  })

  it('passes on a failure to start, holding no place', async () => {
    const call = hostCall({ operation: 'watch' })
    const failure = sandboxError(C.CAPABILITY_FAILED, 'cannot start')
    const limits = { ...LIMITS, operationsPerCall: 1 }
    expect(await rejection(openStream(call, 'fs.watch', limits, () => Promise.reject(failure)))).toBe(failure)
    await open(call, limits)
  })
})

describe('nextBatch', () => {
  it('hands out what is buffered at once, then waits for the next push', { timeout: WAIT }, async () => {
    const call = hostCall({ operation: 'watch' })
    const { id, stream } = await open(call)
    stream.push('a')
    stream.push('b')
    expect(await nextBatch(call, id, undefined, far())).toEqual({ items: ['a', 'b'], dropped: 0 })
    const waiting = nextBatch(call, id, { timeoutMs: 60_000 }, far())
    stream.push('c')
    expect(await waiting).toEqual({ items: ['c'], dropped: 0 })
  })

  it('keeps the newest limits.watchQueue items and counts the dropped ones once', async () => {
    const call = hostCall({ operation: 'watch' })
    const { id, stream } = await open(call)
    for (const item of [1, 2, 3, 4, 5]) stream.push(item)
    expect(await nextBatch(call, id, {}, far())).toEqual({ items: [3, 4, 5], dropped: 2 })
    stream.push(6)
    expect(await nextBatch(call, id, {}, far())).toEqual({ items: [6], dropped: 0 })
  })

  it('hands out at most options.max items (1000 unless asked), the rest next time', async () => {
    const call = hostCall({ operation: 'watch' })
    const { id, stream } = await open(call, { watchQueue: 2000, operationsPerCall: 2 })
    for (let i = 0; i < 1001; i++) stream.push(i)
    expect((await nextBatch(call, id, {}, far())).items).toHaveLength(1000)
    expect((await nextBatch(call, id, {}, far())).items).toEqual([1000])
    for (const item of ['a', 'b', 'c']) stream.push(item)
    expect((await nextBatch(call, id, { max: 2.9 }, far())).items).toEqual(['a', 'b'])
    expect((await nextBatch(call, id, { max: 1 }, far())).items).toEqual(['c'])
  })

  it('checks its options', async () => {
    const call = hostCall({ operation: 'watch' })
    const { id } = await open(call)
    expect(thrown(() => nextBatch(call, id, 'soon', far()))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'next options: expected an object, got "soon"',
    })
    for (const timeoutMs of [-1, 600_001, '5'])
      expect(thrown(() => nextBatch(call, id, { timeoutMs }, far())).message).toMatch(
        /^next options\.timeoutMs: expected a number from 0 to 600000, got /,
      )
    for (const max of [0, 100_001, '5'])
      expect(thrown(() => nextBatch(call, id, { max }, far())).message).toMatch(
        /^next options\.max: expected a number from 1 to 100000, got /,
      )
    expect(await nextBatch(call, id, { timeoutMs: 0, max: 100_000 }, far())).toEqual({
      items: [],
      dropped: 0,
    })
  })

  it('answers an empty batch after options.timeoutMs (10 s unless asked), or at the deadline', {
    timeout: WAIT,
  }, async () => {
    vi.useFakeTimers()
    const call = hostCall({ operation: 'watch' })
    const { id } = await open(call)
    let settled = false
    const waiting = nextBatch(call, id, undefined, Date.now() + 60_000).then((r) => {
      settled = true
      return r
    })
    await vi.advanceTimersByTimeAsync(9_999)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await waiting).toEqual({ items: [], dropped: 0 })

    settled = false
    const asked = nextBatch(call, id, { timeoutMs: 600_000 }, Date.now() + 500).then(() => {
      settled = true
    })
    await vi.advanceTimersByTimeAsync(499)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await asked
    // A deadline already past answers at once.
    const late = nextBatch(call, id, { timeoutMs: 600_000 }, Date.now() - 1000)
    await vi.advanceTimersByTimeAsync(0)
    expect(await late).toEqual({ items: [], dropped: 0 })
  })

  it('lets one reader wait at a time, and cleans up after it', async () => {
    const call = hostCall({ operation: 'watch' })
    const { id, stream } = await open(call)
    const first = nextBatch(call, id, { timeoutMs: 60_000 }, far())
    expect(thrown(() => nextBatch(call, id, {}, far()))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'next: expected one next() at a time per stream (await the previous one), got "a second call"',
    })
    expect(call.wakers.size).toBe(1)
    stream.push('x')
    expect(await first).toEqual({ items: ['x'], dropped: 0 })
    expect(call.wakers.size).toBe(0)
    expect(getEventListeners(callSignal(call), 'abort')).toHaveLength(1) // the call's own: closes its streams
    stream.push('y')
    expect(await nextBatch(call, id, {}, far())).toEqual({ items: ['y'], dropped: 0 })
  })

  it('answers at once, empty, while the call is stopping, and wakes a waiting reader on stop', {
    timeout: WAIT,
  }, async () => {
    const call = hostCall({ operation: 'watch' })
    const { id } = await open(call)
    const waiting = nextBatch(call, id, { timeoutMs: 60_000 }, far())
    call.stopping = true
    for (const wake of [...call.wakers]) wake()
    expect(await waiting).toEqual({ items: [], dropped: 0 })
    expect(await nextBatch(call, id, { timeoutMs: 60_000 }, far())).toEqual({ items: [], dropped: 0 })
  })

  it('hands out what arrived before a failure, then rejects with the first failure', {
    timeout: WAIT,
  }, async () => {
    const call = hostCall({ operation: 'watch' })
    const { id, stream } = await open(call)
    const first = sandboxError(C.CAPABILITY_FAILED, 'connection closed', { retryable: true })
    stream.push('last')
    stream.fail(first)
    stream.fail(sandboxError(C.CAPABILITY_FAILED, 'later'))
    expect(await nextBatch(call, id, {}, far())).toEqual({ items: ['last'], dropped: 0 })
    expect(await rejection(nextBatch(call, id, {}, far()))).toBe(first)
    // A waiting reader is woken by the failure.
    const other = await open(call)
    const waiting = rejection(nextBatch(call, other.id, { timeoutMs: 60_000 }, far()))
    other.stream.fail(first)
    expect(await waiting).toBe(first)
  })
})

describe('closing', () => {
  it('releases a stream once on close; its id is then unknown', async () => {
    const call = hostCall({ operation: 'watch' })
    const { id, state } = await open(call)
    closeStream(call, id)
    expect(state.released).toBe(1)
    const unknown = {
      code: C.CAPABILITY_FAILED,
      message: `stream: expected a stream opened by this call and not closed, got ${JSON.stringify(id)}`,
    }
    expect(thrown(() => closeStream(call, id))).toEqual(unknown)
    expect(thrown(() => nextBatch(call, id, {}, far()))).toEqual(unknown)
    end(call)
    expect(state.released).toBe(1)
  })

  it('wakes a waiting reader when its stream is closed', { timeout: WAIT }, async () => {
    const call = hostCall({ operation: 'watch' })
    const { id } = await open(call)
    const waiting = nextBatch(call, id, { timeoutMs: 60_000 }, far())
    closeStream(call, id)
    expect(await waiting).toEqual({ items: [], dropped: 0 })
  })

  it('releases every stream of a call when the call ends, and wakes their readers', {
    timeout: WAIT,
  }, async () => {
    const call = hostCall({ operation: 'watch' })
    const a = await open(call)
    const b = await open(call)
    const waiting = nextBatch(call, a.id, { timeoutMs: 60_000 }, far())
    end(call)
    expect(await waiting).toEqual({ items: [], dropped: 0 })
    expect([a.state.released, b.state.released]).toEqual([1, 1])
    expect(thrown(() => nextBatch(call, b.id, {}, far())).message).toMatch(
      /^stream: expected a stream opened/,
    )
  })

  it('knows only the ids of the call’s own streams', async () => {
    const call = hostCall({ operation: 'watch' })
    const { id } = await open(call)
    const other = hostCall({ operation: 'watch' })
    expect(thrown(() => nextBatch(other, id, {}, far())).message).toBe(
      `stream: expected a stream opened by this call and not closed, got ${JSON.stringify(id)}`,
    )
    expect(thrown(() => closeStream(call, 7)).message).toBe(
      'stream: expected a stream opened by this call and not closed, got number',
    )
  })
})
