// Drains the outbox to the orchestrator, oldest first. A result goes alone; consecutive event
// entries go together, in requests under the server's body limit and event count. An entry
// is deleted only after an answer that settles it:
// - success, or 409 (the attempt is no longer ours);
// - a refusal (400/413): a batch is split in halves down to the refused event, which is
//   quarantined (log line, counter, a file in outbox-quarantine/) while all others are
//   delivered; a refused result is quarantined and a failed result standing in for it is
//   sent, so the attempt is still recorded;
// - repeated failures (5xx, network) of one entry while the entries behind it get through:
//   it is moved aside the same way, so the queue never stalls behind one report.
// Network errors and 5xx otherwise keep everything in order and back off.
import type { WireEvent } from '@stavily/protocol'
import { AGENT_API_LIMITS, type ResultReply } from '@stavily/protocol'
import { type ApiClient, ApiError } from './api-client.ts'
import { Backoff, sleep } from './backoff.ts'
import { AGENT_DEFAULTS, type Intervals } from './defaults.ts'
import { AgentErrorCodes } from './errors.ts'
import type { Executor } from './executor.ts'
import type { Logger } from './logger.ts'
import type { EventsEntry, Outbox, OutboxEntry, QuarantineRecord, ResultEntry } from './outbox.ts'
import { jsonBytes, MAX_BODY_BYTES, prepareResult } from './report-safety.ts'

/** One event of an outbox entry, on its way. */
interface Item {
  entryId: string
  index: number
  event: WireEvent
  bytes: number
}

/** What is sent as one step: a result, or a run of consecutive event entries. */
type Unit =
  | { type: 'result'; ids: string[]; id: string; entry: ResultEntry }
  | { type: 'events'; ids: string[]; entries: { id: string; entry: EventsEntry }[] }

/** How one step went: done, stop the sender (401), or retry after a delay. */
type Outcome =
  | { kind: 'ok' }
  | { kind: 'stop' }
  /** `counts`: a 5xx or network failure, evidence against the entry (a 429 or 503 shutting down is not). */
  | { kind: 'retry'; delay: number; error: string; counts: boolean }

const OK: Outcome = { kind: 'ok' }

/** The state of one run's delivery: what got through, and events that failed alone. */
interface Delivery {
  done: Set<Item>
  isolating: boolean
  suspects: { it: Item; err: ApiError; outcome: Outcome }[]
  succeeded: boolean
  failed: number
  budget: number
}

export class Sender {
  private wakeUp: (() => void) | undefined
  private readonly backoff: Backoff
  private running: Promise<void> | undefined
  private stopped = false
  private readonly stopping = new AbortController()
  /** The orchestrator refuses `sensorId` (an older server): send events without it. */
  private stripSensorId = false
  /** Consecutive failed sends per entry id: the evidence for moving an entry aside. */
  private readonly failures = new Map<string, number>()
  sent = { results: 0, events: 0 }
  /** Reports moved to outbox-quarantine/ by this run (the folder also holds earlier runs'). */
  quarantined = 0

  constructor(
    private readonly outbox: Outbox,
    private readonly api: ApiClient,
    intervals: () => Intervals,
    private readonly log: Logger,
    private readonly onUnauthorized: (err: ApiError) => void,
    /** Where a result's reply takes next work from (the executor; none for a sensor agent). */
    private readonly nextWork?: Pick<Executor, 'askNext' | 'takeNext'>,
  ) {
    this.backoff = new Backoff(intervals)
  }

  start(): void {
    const waiting = this.outbox.quarantined
    if (waiting > 0)
      this.log.warn(
        { quarantined: waiting, folder: this.outbox.quarantineDir },
        'outbox: reports the orchestrator refused wait in the quarantine folder for inspection',
      )
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
      const units = toUnits(this.outbox.list())
      if (units.length === 0) {
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve
        })
        this.wakeUp = undefined
        continue
      }
      const next = await this.pass(units)
      if (next === 'stop') return
      if (next > 0) await this.pause(next)
    }
  }

  /** Sends every unit in order; returns the delay before the next pass, or 'stop'. */
  private async pass(units: Unit[]): Promise<number | 'stop'> {
    const sent = new Map<Unit, Promise<Outcome>>()
    try {
      return await this.sendAll(units, sent)
    } finally {
      // Nothing is still on its way when the next pass lists the outbox again.
      await Promise.allSettled(sent.values())
    }
  }

  private async sendAll(units: Unit[], sent: Map<Unit, Promise<Outcome>>): Promise<number | 'stop'> {
    // A unit that failed entryRetryLimit times is skipped once, to probe whether the
    // orchestrator takes the next one: if it does, that unit is the problem, not the server.
    let suspect: Unit | undefined
    let lastDelay = 0
    // Results that have not failed yet go several at once (each is its own attempt's, in any
    // order): an agent finishing calls faster than one round trip each is not held back by
    // its sender. Their outcomes are then taken in order, as if sent one by one.
    for (const [k, u] of units.entries()) {
      if (this.stopped) return 'stop'
      if (!sent.has(u) && u.type === 'result' && this.failuresOf(u) === 0) {
        for (const w of units.slice(k, k + AGENT_DEFAULTS.resultSendsAtOnce)) {
          if (w.type !== 'result' || this.failuresOf(w) > 0) break
          sent.set(w, this.sendResult(w))
        }
      }
      const r =
        u.type === 'result'
          ? await (sent.get(u) ?? this.sendResult(u))
          : await this.sendEvents(u, this.failuresOf(u) >= AGENT_DEFAULTS.entryRetryLimit)
      if (r.kind === 'stop') return 'stop'
      if (r.kind === 'ok') {
        this.backoff.reset()
        if (suspect) {
          const moved = await this.moveAside(suspect)
          if (moved.kind === 'stop') return 'stop'
          return 0
        }
        continue
      }
      const n = r.counts ? Math.max(...u.ids.map((id) => this.bump(id))) : 0
      this.log.warn(
        { error: r.error, retryInMs: Math.round(r.delay), failures: n, queued: units.length },
        'outbox: send failed; will retry',
      )
      if (!suspect && n >= AGENT_DEFAULTS.entryRetryLimit) {
        suspect = u
        lastDelay = r.delay
        continue
      }
      return r.delay
    }
    return suspect ? lastDelay : 0
  }

  private failuresOf(u: Unit): number {
    return Math.max(0, ...u.ids.map((id) => this.failures.get(id) ?? 0))
  }

  private bump(id: string): number {
    const n = (this.failures.get(id) ?? 0) + 1
    this.failures.set(id, n)
    return n
  }

  private settled(id: string): void {
    this.failures.delete(id)
  }

  /**
   * The orchestrator takes other reports but keeps failing on this one: a result is replaced
   * by a stand-in (then quarantined if even that fails); events, which failed even one by
   * one (sendEvents with isolating), are quarantined.
   */
  private async moveAside(u: Unit): Promise<Outcome> {
    const error = `failed ${this.failuresOf(u)} times while later reports got through`
    this.log.warn(
      { entries: u.ids, error },
      'outbox: moving aside a report the orchestrator keeps failing on',
    )
    if (u.type === 'result') {
      this.replaceResult(u, 'server-errors', undefined, error)
      return OK
    }
    // Re-read: part of the run may have been delivered since it was listed.
    const now = new Map(this.outbox.list().map((e) => [e.id, e.entry]))
    for (const id of u.ids) {
      const entry = now.get(id)
      if (entry?.type !== 'events') continue
      for (const event of entry.events)
        this.quarantine(
          { reason: 'server-errors', status: undefined, error, entry: { type: 'events', events: [event] } },
          { sensorId: event.sensorId, source: event.source, type: event.type },
        )
      this.outbox.remove(id)
      this.settled(id)
    }
    return OK
  }

  private async sendResult(u: Extract<Unit, { type: 'result' }>): Promise<Outcome> {
    const { entry } = u
    // The next work to ask for in the reply (Executor.askNext): only a result's first send.
    const next = this.nextWork?.askNext(u.id) ?? 0
    let reply: unknown
    try {
      const res = await this.api.request<ResultReply>(
        'POST',
        `/instructions/${encodeURIComponent(entry.instructionId)}/result${next > 0 ? `?next=${next}` : ''}`,
        { body: entry.body },
      )
      reply = res.body
      this.sent.results++
      this.outbox.remove(u.id)
      this.settled(u.id)
      // Logged after the removal, so "result reported" means the report is settled and
      // gone from disk: a crash after this line replays nothing.
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
      return OK
    } catch (err) {
      if (!(err instanceof ApiError)) return this.unexpected(err)
      if (err.kind === 'not-held') {
        this.log.warn(
          { instructionId: entry.instructionId, attempt: entry.attempt },
          'outbox: the orchestrator no longer holds this attempt for us; dropped',
        )
        this.outbox.remove(u.id)
        this.settled(u.id)
        return OK
      }
      if (err.kind === 'refused') {
        this.replaceResult(u, 'refused', err.status, err.message)
        return OK
      }
      return this.failed(err)
    } finally {
      // Whatever happened, the slots asked for go back (and the work the reply carries starts).
      if (next > 0) this.nextWork?.takeNext(u.id, reply)
    }
  }

  /**
   * Quarantines a result and, unless it already was a stand-in, puts a failed result in its
   * place: the attempt is recorded (and retried by its policy) instead of waiting for its lease.
   */
  private replaceResult(
    u: Extract<Unit, { type: 'result' }>,
    reason: QuarantineRecord['reason'],
    status: number | undefined,
    error: string,
  ): void {
    const { entry } = u
    const file = this.quarantine({ reason, status, error, entry }, { instructionId: entry.instructionId })
    this.settled(u.id)
    if (entry.standIn) {
      this.log.error(
        { instructionId: entry.instructionId, attempt: entry.attempt, error },
        'outbox: even the stand-in result was not taken; the attempt ends when its lease runs out',
      )
      this.outbox.remove(u.id)
      return
    }
    const standIn: ResultEntry = {
      ...entry,
      standIn: true,
      body: {
        attempt: entry.attempt,
        status: 'failed',
        error: {
          code: AgentErrorCodes.REPORT_REFUSED,
          message: `the orchestrator ${reason === 'refused' ? 'refused' : 'kept failing on'} this call's ${entry.body.status} result (${error}); the agent kept it in ${file ?? 'its log'}`,
          // A refused result would be refused again; a server failure may be gone next time.
          retryable: reason === 'server-errors',
        },
      },
    }
    this.outbox.replace(u.id, prepareResult(standIn).entry)
  }

  /**
   * Sends a run of event entries in requests under the limits. With `isolating` (the run
   * failed entryRetryLimit times), a failed request is halved like a refused one; events
   * that still fail alone are quarantined if others got through meanwhile (so the server
   * works and those events are the problem), and more failures than one halving path takes,
   * without a single success, end the attempt (the server is down: no flood of requests).
   */
  private async sendEvents(u: Extract<Unit, { type: 'events' }>, isolating: boolean): Promise<Outcome> {
    const items: Item[] = []
    for (const { id, entry } of u.entries)
      for (const [index, event] of entry.events.entries())
        items.push({ entryId: id, index, event, bytes: jsonBytes(event) + 1 })
    const ctx: Delivery = {
      done: new Set(),
      isolating,
      suspects: [],
      succeeded: false,
      failed: 0,
      // One bad event fails once per halving on its way down; more than that with nothing
      // taken at all means the server is down, and costs only this many requests.
      budget: Math.ceil(Math.log2(Math.max(1, items.length))) + 1,
    }
    let outcome: Outcome = OK
    for (const chunk of chunks(items)) {
      outcome = await this.deliver(chunk, ctx)
      if (outcome.kind !== 'ok') break
    }
    if (ctx.suspects.length > 0) {
      if (ctx.succeeded) {
        for (const { it, err } of ctx.suspects) this.quarantineEvent(it, 'server-errors', err, ctx)
      } else if (outcome.kind === 'ok') outcome = ctx.suspects[0]?.outcome ?? outcome
    }
    // Record progress: delivered (or quarantined) events leave their entries for good.
    const settled = new Set([...ctx.done].map((it) => `${it.entryId}#${it.index}`))
    for (const { id, entry } of u.entries) {
      const left = entry.events.filter((_e, i) => !settled.has(`${id}#${i}`))
      if (left.length === 0) {
        this.outbox.remove(id)
        this.settled(id)
      } else if (left.length < entry.events.length) this.outbox.replace(id, { type: 'events', events: left })
    }
    return outcome
  }

  private async deliver(chunk: Item[], ctx: Delivery): Promise<Outcome> {
    const events = chunk.map((it) => (this.stripSensorId ? withoutSensorId(it.event) : it.event))
    try {
      const res = await this.api.request<{ ids: string[]; duplicates: number }>('POST', '/events', {
        body: { events },
      })
      for (const it of chunk) ctx.done.add(it)
      ctx.succeeded = true
      this.sent.events += chunk.length
      this.log.debug({ events: chunk.length, duplicates: res.body?.duplicates }, 'events reported')
      return OK
    } catch (err) {
      if (!(err instanceof ApiError)) return this.unexpected(err)
      if (err.kind === 'refused' && !this.stripSensorId && /sensorId/.test(err.message)) {
        this.stripSensorId = true
        this.log.warn('outbox: the orchestrator does not know event sensorId yet; sending events without it')
        return this.deliver(chunk, ctx)
      }
      if (err.kind === 'refused') {
        if (chunk.length === 1) {
          this.quarantineEvent(chunk[0] as Item, 'refused', err, ctx)
          return OK
        }
        this.log.warn(
          { events: chunk.length, status: err.status, error: err.message },
          'outbox: the orchestrator refused a batch of events; halving it to find the refused one',
        )
        return this.halves(chunk, ctx)
      }
      if (!ctx.isolating || err.kind !== 'retry') return this.failed(err)
      ctx.failed++
      const outcome = this.failed(err)
      if (!ctx.succeeded && ctx.failed > ctx.budget) return outcome
      if (chunk.length === 1) {
        ctx.suspects.push({ it: chunk[0] as Item, err, outcome })
        return OK
      }
      return this.halves(chunk, ctx)
    }
  }

  private async halves(chunk: Item[], ctx: Delivery): Promise<Outcome> {
    const half = Math.ceil(chunk.length / 2)
    const first = await this.deliver(chunk.slice(0, half), ctx)
    if (first.kind !== 'ok') return first
    return this.deliver(chunk.slice(half), ctx)
  }

  private quarantineEvent(it: Item, reason: QuarantineRecord['reason'], err: ApiError, ctx: Delivery): void {
    this.quarantine(
      { reason, status: err.status, error: err.message, entry: { type: 'events', events: [it.event] } },
      { sensorId: it.event.sensorId, source: it.event.source, type: it.event.type },
    )
    ctx.done.add(it)
  }

  private quarantine(record: QuarantineRecord, about: Record<string, unknown>): string | undefined {
    const file = this.outbox.quarantine(record)
    this.quarantined++
    this.log.error(
      {
        ...about,
        reason: record.reason,
        status: record.status,
        error: record.error,
        file: file ?? null,
        quarantined: this.quarantined,
      },
      file
        ? 'outbox: report quarantined; the others are sent on (inspect the file, then delete it)'
        : 'outbox: report dropped; the quarantine folder is full (inspect and empty it)',
    )
    return file
  }

  private failed(err: ApiError): Outcome {
    if (err.kind === 'unauthorized') {
      this.onUnauthorized(err)
      return { kind: 'stop' }
    }
    const delay =
      err.kind === 'retry-now'
        ? 100
        : err.kind === 'rate-limited'
          ? (err.retryAfterMs ?? this.backoff.next())
          : this.backoff.next()
    return { kind: 'retry', delay, error: err.message, counts: err.kind === 'retry' }
  }

  private unexpected(err: unknown): Outcome {
    this.log.error({ err }, 'outbox: unexpected error while sending')
    return { kind: 'retry', delay: this.backoff.next(), error: (err as Error).message, counts: true }
  }

  private pause(ms: number): Promise<void> {
    return sleep(ms, this.stopping.signal)
  }
}

function withoutSensorId({ sensorId: _s, ...e }: WireEvent): WireEvent {
  return e
}

/** Results alone; consecutive event entries together, up to one request's worth of events. */
function toUnits(list: { id: string; entry: OutboxEntry }[]): Unit[] {
  const units: Unit[] = []
  let run: Extract<Unit, { type: 'events' }> | undefined
  let count = 0
  for (const { id, entry } of list) {
    if (entry.type === 'result') {
      run = undefined
      units.push({ type: 'result', ids: [id], id, entry })
      continue
    }
    if (!run || count + entry.events.length > AGENT_API_LIMITS.eventsPerRequest) {
      run = { type: 'events', ids: [], entries: [] }
      count = 0
      units.push(run)
    }
    run.ids.push(id)
    run.entries.push({ id, entry })
    count += entry.events.length
  }
  return units
}

/** Requests of at most eventsPerRequest events and MAX_BODY_BYTES of JSON. */
function chunks(items: Item[]): Item[][] {
  const out: Item[][] = []
  let cur: Item[] = []
  let bytes = 0
  for (const it of items) {
    if (
      cur.length > 0 &&
      (cur.length >= AGENT_API_LIMITS.eventsPerRequest || bytes + it.bytes > MAX_BODY_BYTES)
    ) {
      out.push(cur)
      cur = []
      bytes = 0
    }
    cur.push(it)
    bytes += it.bytes
  }
  if (cur.length > 0) out.push(cur)
  return out
}
