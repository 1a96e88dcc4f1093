// Credential self-rotation: the agent replaces its own credential (POST
// /agents/v1/credential/rotate) `credentialRotateMarginMs` before it has been in use for
// `credentialLifetimeMs`, so a credential copied off a host stops working on its own. The
// new credential is written (atomically, fsynced) before the client switches to it: a crash
// after the write starts with the new one. The one unsafe moment is between the server's
// answer and that write (milliseconds): a crash there leaves a refused credential, and the
// agent must be enrolled again (exit code 3 says so).
import type { ApiClient } from './api-client.ts'
import { Backoff, sleep } from './backoff.ts'
import { credentialIssuedAt, type StoredCredential, writeCredential } from './credential-store.ts'
import type { Intervals } from './defaults.ts'
import type { Logger } from './logger.ts'

export interface RotationOptions {
  api: ApiClient
  dataDir: string
  lifetimeMs: number
  marginMs: number
  intervals: () => Intervals
  log: Logger
  signal: AbortSignal
  identity: () => StoredCredential
  /** Called with the stored new credential; the client already uses it. */
  rotated: (c: StoredCredential) => void
  /** A failed request: returns the delay before trying again (and stops the agent on a 401). */
  onError: (err: unknown, backoff: Backoff) => number
  done: () => boolean
}

/** setTimeout's ceiling is ~24.8 days; a long wait is slept in pieces. */
const MAX_SLEEP_MS = 6 * 60 * 60 * 1000

export async function rotationLoop(o: RotationOptions): Promise<void> {
  const backoff = new Backoff(o.intervals)
  while (!o.done()) {
    const due = credentialIssuedAt(o.dataDir, o.identity()) + o.lifetimeMs - o.marginMs
    const wait = due - Date.now()
    if (wait > 0) {
      await sleep(Math.min(wait, MAX_SLEEP_MS), o.signal)
      continue
    }
    try {
      const res = await o.api.request<{ credential: string }>('POST', '/credential/rotate', {
        signal: o.signal,
      })
      const next: StoredCredential = {
        ...o.identity(),
        credential: res.body.credential,
        issuedAt: new Date().toISOString(),
      }
      writeCredential(o.dataDir, next)
      o.api.credential = next.credential
      o.rotated(next)
      backoff.reset()
      o.log.info({ nextRotationInMs: o.lifetimeMs - o.marginMs }, 'credential rotated')
    } catch (err) {
      if (o.done()) break
      await sleep(o.onError(err, backoff), o.signal)
    }
  }
}
