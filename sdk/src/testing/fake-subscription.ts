import type { Batch, Subscription } from '../context.ts'
import { invalid, optionalObject } from './args.ts'

/**
 * A harness subscription over a fixed list: `next()` hands out what is queued (at most
 * `max`), then empty batches; it never really waits. Closed, it answers empty batches.
 */
export function fakeSubscription<T>(where: string, items: T[]): Subscription<T> {
  const queue = [...items]
  let closed = false
  return Object.freeze({
    async next(options?: { timeoutMs?: number; max?: number }): Promise<Batch<T>> {
      const raw = optionalObject(`${where}.next options`, options)
      const max = raw.max === undefined ? queue.length : raw.max
      if (typeof max !== 'number' || !Number.isInteger(max) || (max < 1 && queue.length > 0))
        throw invalid(`${where}.next options.max`, 'a positive integer', raw.max)
      // Yield, as a real wait would, so a loop that only awaits next() still lets tests stop it.
      await new Promise((resolve) => setImmediate(resolve))
      if (closed) return { items: [], dropped: 0 }
      return { items: structuredClone(queue.splice(0, max)), dropped: 0 }
    },
    async close(): Promise<void> {
      closed = true
    },
  })
}
