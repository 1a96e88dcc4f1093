// Loopback ports and readiness polling shared by every process the harness starts.
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A loopback port that was free a moment ago (callers retry when another process takes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Polls `check` until it returns a value other than undefined, or fails naming `what`
 * after `timeoutMs`. Polling (not sleeping a fixed time) keeps the tests free of timing
 * assumptions: they wait exactly as long as the platform needs, up to a generous bound.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > end) {
      const why = last instanceof Error ? `; last error: ${last.message}` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`)
    }
    await sleep(intervalMs)
  }
}

/** Resolves once `url` answers with a 2xx status. */
export function waitForHttp(url: string, timeoutMs = 30_000): Promise<true> {
  return waitFor(
    `${url} to answer`,
    async () => ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok ? true : undefined),
    { timeoutMs },
  )
}
