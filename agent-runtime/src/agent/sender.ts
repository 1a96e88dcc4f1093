// Drains the outbox to the orchestrator, oldest first, one entry at a time. An entry is
// deleted only after an answer that settles it: success, 409 (the attempt is no longer
// ours), or a refusal that no retry can fix (logged). Network errors and 5xx keep it.
import { type ApiClient, ApiError } from './api-client.ts'
import { Backoff, sleep } from './backoff.ts'
import type { Intervals } from './defaults.ts'
import type { Logger } from './logger.ts'
import type { Outbox, OutboxEntry } from './outbox.ts'

export class Sender {
  private wakeUp: (() => void) | undefined
  private readonly backoff: Backoff
  private running: Promise<void> | undefined
  private stopped = false
  private readonly stopping = new AbortController()
  /** The orchestrator refuses `sensorId` (an older server): send events without it. */
  private stripSensorId = false
  sent = { results: 0, events: 0 }

  constructor(
    private readonly outbox: Outbox,
    private readonly api: ApiClient,
    intervals: () => Intervals,
    private readonly log: Logger,
    private readonly onUnauthorized: (err: ApiError) => void,
  ) {
    this.backoff = new Backoff(intervals)
  }

  start(): void {
    this.running ??= this.loop()
  }

  wake(): void {
    this.wakeUp?.()
  }

  /** Sends what is in the outbox now; resolves when it is empty or `deadline` passes. */
  async flush(deadline: number): Promise<boolean> {
    while (Date.now() < deadline) {
      if (this.outbox.size === 0) return true
      this.wake()
      await sleep(50)
    }
    return this.outbox.size === 0
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.stopping.abort()
    this.wake()
    await this.running
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const entries = this.outbox.list()
      if (entries.length === 0) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve
        })
        this.wakeUp = undefined
        continue
      }
      for (const { id, entry } of entries) {
        if (this.stopped) return
        try {
          const settled = await this.send(entry)
          this.outbox.remove(id)
          // Logged after the removal, so "result reported" means the report is settled
          // and gone from disk: a crash after this line replays nothing.
          settled()
          this.backoff.reset()
        } catch (err) {
          if (!(err instanceof ApiError)) {
            this.log.error({ err }, 'outbox: unexpected error while sending')
            await this.pause(this.backoff.next())
            break
          }
          if (err.kind === 'not-held') {
            this.log.warn(
              { entry: describe(entry) },
              'outbox: the orchestrator no longer holds this attempt for us; dropped',
            )
            this.outbox.remove(id)
            continue
          }
          if (err.kind === 'refused') {
            if (entry.type === 'events' && !this.stripSensorId && /sensorId/.test(err.message)) {
              this.stripSensorId = true
              this.log.warn(
                'outbox: the orchestrator does not know event sensorId yet; sending events without it',
              )
              break
            }
            this.log.error(
              { entry: describe(entry), error: err.message },
              'outbox: the orchestrator refused this report; dropped',
            )
            this.outbox.remove(id)
            continue
          }
          if (err.kind === 'unauthorized') {
            this.onUnauthorized(err)
            return
          }
          const delay =
            err.kind === 'retry-now'
              ? 100
              : err.kind === 'rate-limited'
                ? (err.retryAfterMs ?? this.backoff.next())
                : this.backoff.next()
          this.log.warn(
            { error: err.message, retryInMs: Math.round(delay), queued: entries.length },
            'outbox: send failed; will retry',
          )
          await this.pause(delay)
          break
        }
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return sleep(ms, this.stopping.signal)
  }

  /** Sends one entry; returns what to log once the entry is removed from the outbox. */
  private async send(entry: OutboxEntry): Promise<() => void> {
    if (entry.type === 'result') {
      const res = await this.api.request<{ instructionStatus: string; willRetry: boolean }>(
        'POST',
        `/instructions/${encodeURIComponent(entry.instructionId)}/result`,
        { body: entry.body },
      )
      this.sent.results++
      return () =>
        this.log.info(
          {
            instructionId: entry.instructionId,
            attempt: entry.attempt,
            status: entry.body.status,
            instructionStatus: res.body?.instructionStatus,
            willRetry: res.body?.willRetry,
          },
          'result reported',
        )
    }
    const events = this.stripSensorId ? entry.events.map(({ sensorId: _s, ...e }) => e) : entry.events
    const res = await this.api.request<{ ids: string[]; duplicates: number }>('POST', '/events', {
      body: { events },
    })
    this.sent.events += events.length
    return () =>
      this.log.debug({ events: events.length, duplicates: res.body?.duplicates }, 'events reported')
  }
}

function describe(e: OutboxEntry): Record<string, unknown> {
  return e.type === 'result'
    ? { type: 'result', instructionId: e.instructionId, attempt: e.attempt }
    : { type: 'events', count: e.events.length }
}
