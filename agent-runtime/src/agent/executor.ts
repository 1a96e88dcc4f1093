// Runs action/output instructions: accept, renew the lease about every third of it while
// the plugin works, follow cancellations, and write the result to the outbox (fsynced)
// before it counts as done; the sender delivers it.
//
// Next work in a result's reply: a finished call keeps its slot for its result (`held`),
// and the sender's first send of that result asks for that slot and the other free ones
// (`?next=N`, `askNext`); what the reply carries starts here at once (`takeNext`), without
// a poll. Slots asked for, by a poll or a result, are reserved until its answer, so the two
// never take more work than there are slots. Only a result written by this run, on its
// first send, asks: a retry (whose earlier reply may have carried work now lost: that work
// comes back when its lease ends) or a replay after a restart asks for nothing.
import type { ResultLog } from '@stavily/protocol'
import type { SandboxError } from '../errors.ts'
import type { Sandbox } from '../sandbox/sandbox.ts'
import { type ApiClient, ApiError } from './api-client.ts'
import { sleep } from './backoff.ts'
import { AGENT_DEFAULTS, type Intervals } from './defaults.ts'
import { type DesiredSet, parseDesired } from './desired.ts'
import { AgentErrorCodes } from './errors.ts'
import { type Instruction, parseInstruction } from './instruction.ts'
import type { Logger } from './logger.ts'
import type { Outbox, ResultEntry } from './outbox.ts'
import type { PluginSync } from './plugin-sync.ts'
import { prepareResult } from './report-safety.ts'

interface Running {
  instruction: Instruction
  abort: AbortController
  /** Why the call is being stopped: an operator cancel, a lost lease, or shutdown. */
  stopReason: 'cancel' | 'not-held' | 'shutdown' | undefined
  /** Reported as handed back at shutdown: whatever the call does later is not reported. */
  handedBack: boolean
  done: Promise<void>
}

export class Executor {
  private readonly running = new Map<string, Running>()
  /** A forced stop: calls ended by closing the sandbox are not reported (their leases lapse). */
  abandoned = false
  /** Slots freed: the poll loop waits on this when all are taken. */
  private freed: (() => void) | undefined
  /** Slots reserved for answers on their way (a poll's, a result reply's). */
  private reserved = 0
  /** Results written by this run whose slot is kept for their reply, by outbox entry id. */
  private readonly held = new Map<string, NodeJS.Timeout>()
  /** Slots reserved by result sends, by outbox entry id, until their reply is taken. */
  private readonly asked = new Map<string, number>()
  /** Shutting down: no result asks for work. */
  private closing = false

  constructor(
    private readonly o: {
      sandbox: Sandbox
      api: ApiClient
      outbox: Outbox
      sync: PluginSync
      intervals: () => Intervals
      log: Logger
      concurrency: number
      onResultWritten(): void
      onUnauthorized(err: ApiError): void
      /** A result's reply said the orchestrator drains this agent. */
      onDrain?(): void
      /** Fault injection for crash tests: called right after a result entered the outbox. */
      afterOutbox?(): void
    },
  ) {}

  get inFlight(): number {
    return this.running.size
  }

  get free(): number {
    return Math.max(0, this.o.concurrency - this.running.size - this.reserved)
  }

  /** Reserves `n` slots for a poll's answer; give them back with `release` when it came. */
  reserve(n: number): void {
    this.reserved += n
  }

  release(n: number): void {
    this.reserved = Math.max(0, this.reserved - n)
    this.freed?.()
  }

  /**
   * The sender is about to send the result in outbox entry `entryId`: how many instructions
   * to ask for in its reply (0: none). Asks only for a result this run wrote, once: its own
   * slot and the free ones, reserved until `takeNext`.
   */
  askNext(entryId: string): number {
    const timer = this.held.get(entryId)
    if (timer === undefined) return 0
    clearTimeout(timer)
    this.held.delete(entryId)
    if (this.closing) {
      this.release(1)
      return 0
    }
    const extra = Math.min(this.free, AGENT_DEFAULTS.askMax - 1)
    this.reserved += extra
    this.asked.set(entryId, 1 + extra)
    return 1 + extra
  }

  /**
   * The reply to a result send that asked (`reply` undefined: it failed, or carried
   * nothing readable): the reserved slots go back, and the instructions it carries start
   * now, its cancels and drain are followed as a poll answer's.
   */
  takeNext(entryId: string, reply: unknown): void {
    const slots = this.asked.get(entryId)
    if (slots === undefined) return
    this.asked.delete(entryId)
    this.reserved = Math.max(0, this.reserved - slots)
    const body = (reply ?? {}) as { instructions?: unknown; drain?: unknown; cancel?: unknown }
    if (Array.isArray(body.cancel) && body.cancel.length > 0)
      this.cancel(body.cancel as { id: string; attempt: number }[])
    if (body.drain === true) this.o.onDrain?.()
    for (const raw of Array.isArray(body.instructions) ? body.instructions : []) {
      const i = parseInstruction(raw)
      if (i) this.start(i)
      else this.o.log.error({ instruction: raw }, 'result reply carried an unreadable instruction; ignored')
    }
    this.freed?.()
  }

  /** Resolves when a slot is free (or at once), or when `signal` aborts. */
  async whenFree(signal: AbortSignal): Promise<void> {
    while (this.free === 0 && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done)
          this.freed = undefined
          resolve()
        }
        this.freed = done
        signal.addEventListener('abort', done, { once: true })
      })
    }
  }

  start(instruction: Instruction): void {
    const key = `${instruction.id}#${instruction.attempt}`
    if (this.running.has(key)) return
    const r: Running = {
      instruction,
      abort: new AbortController(),
      stopReason: undefined,
      handedBack: false,
      done: Promise.resolve(),
    }
    this.running.set(key, r)
    r.done = this.execute(r).finally(() => {
      this.running.delete(key)
      this.freed?.()
    })
  }

  /** An operator cancelled these (from a heartbeat or poll answer). */
  cancel(list: { id: string; attempt: number }[]): void {
    for (const c of list) {
      const r = this.running.get(`${c.id}#${c.attempt}`)
      if (r && !r.stopReason) {
        r.stopReason = 'cancel'
        r.abort.abort()
        this.o.log.info(
          { instructionId: c.id, attempt: c.attempt },
          'instruction cancelled by the orchestrator',
        )
      }
    }
  }

  /**
   * Shutdown: waits up to `graceMs` for calls in flight; then asks the rest to stop, and
   * what has not stopped shortly after is reported failed and retryable ("handed back"), so
   * the orchestrator gives it to another agent at once instead of waiting for the lease.
   */
  async drain(graceMs: number): Promise<void> {
    this.closing = true
    const all = () => Promise.all([...this.running.values()].map((r) => r.done))
    const within = (ms: number) => Promise.race([all().then(() => true), sleep(ms).then(() => false)])
    if (await within(graceMs)) return
    for (const r of this.running.values()) {
      r.stopReason ??= 'shutdown'
      r.abort.abort()
    }
    if (await within(AGENT_DEFAULTS.handBackAfterStopMs)) return
    for (const r of this.running.values()) {
      if (r.handedBack || r.stopReason === 'not-held') continue
      r.handedBack = true
      const i = r.instruction
      this.o.outbox.add({
        type: 'result',
        instructionId: i.id,
        attempt: i.attempt,
        body: {
          attempt: i.attempt,
          status: 'failed',
          error: {
            code: AgentErrorCodes.SHUTDOWN,
            message: 'the agent shut down before the call finished; handed back for a retry',
            retryable: true,
          },
        },
      })
      this.o.log.warn(
        { instructionId: i.id, attempt: i.attempt, plugin: i.plugin },
        'handed back: the agent is shutting down',
      )
    }
    this.o.onResultWritten()
  }

  private async execute(r: Running): Promise<void> {
    const { instruction: i } = r
    const log = this.o.log.child({
      instructionId: i.id,
      attempt: i.attempt,
      plugin: i.plugin,
      runId: i.runId,
      stepId: i.stepId,
    })
    // Accept at once: it renews the lease and says whether the attempt is still ours.
    if (!(await this.renew(r, log))) return
    const ttl = this.o.intervals().leaseTtlMs
    const renewer = setInterval(() => void this.renew(r, log), Math.max(1_000, Math.floor(ttl / 3)))
    let entry: ResultEntry
    try {
      entry = await this.invoke(r, log)
    } finally {
      clearInterval(renewer)
    }
    if (r.stopReason === 'not-held') {
      log.warn('the lease of this attempt was lost; its result is dropped')
      return
    }
    if (r.handedBack || this.abandoned) return
    // Made safe and checked with the orchestrator's rules first: what enters the outbox is
    // what the server takes, so one bad value cannot stall the reports behind it.
    const prepared = prepareResult(entry)
    if (prepared.problem)
      log.error(
        { error: prepared.problem },
        'the result breaks the agent API rules; reported as failed instead',
      )
    logPluginLines(log, prepared.entry.body.logs)
    const entryId = this.o.outbox.add(prepared.entry)
    this.o.afterOutbox?.()
    // The slot stays taken for the result's reply, which may carry this slot's next work.
    if (!this.closing) {
      this.reserved++
      this.held.set(
        entryId,
        setTimeout(() => {
          if (this.held.delete(entryId)) this.release(1)
        }, AGENT_DEFAULTS.resultReplyHoldMs).unref(),
      )
    }
    this.o.onResultWritten()
  }

  private async invoke(r: Running, log: Logger): Promise<ResultEntry> {
    const i = r.instruction
    const base = { type: 'result' as const, instructionId: i.id, attempt: i.attempt }
    const fail = (code: string, message: string, retryable: boolean, data?: unknown): ResultEntry => ({
      ...base,
      body: {
        attempt: i.attempt,
        status: 'failed',
        error: { code, message, retryable, ...(data === undefined ? {} : { data }) },
      },
    })
    const handBack = (): ResultEntry => {
      log.warn('handed back: the agent is shutting down')
      return fail(
        AgentErrorCodes.SHUTDOWN,
        'the agent shut down before the call finished; handed back for a retry',
        true,
      )
    }
    let loaded = this.o.sandbox.list().find((p) => p.name === i.plugin)
    if (!loaded || (i.version && loaded.version !== i.version && !this.o.sync.failures.has(i.plugin))) {
      // Not loaded yet (or another version): the desired set may have just changed, and the
      // heartbeat that would say so can be seconds away (a `plugin dev` build waits on it).
      await this.refreshDesired(log)
      loaded = this.o.sandbox.list().find((p) => p.name === i.plugin)
    }
    const failure = this.o.sync.failures.get(i.plugin)
    const refused =
      failure?.code === AgentErrorCodes.PLUGIN_REFUSED || failure?.code === AgentErrorCodes.PLUGIN_NOT_ALLOWED
    if (failure && (!loaded || refused)) {
      log.error({ error: failure.message }, 'instruction failed: plugin not available')
      return fail(failure.code, failure.message, failure.retryable, failure.data)
    }
    if (!loaded) {
      const message = `plugin ${i.plugin} is not in this agent's desired plugin set (enable it for the pool)`
      log.error(message)
      return fail(AgentErrorCodes.PLUGIN_UNAVAILABLE, message, true)
    }
    // Only the secrets this agent's operator granted the plugin ever reach the sandbox host.
    const granted = new Set(this.o.sync.grantsFor(i.plugin).secrets)
    const secrets = Object.fromEntries(
      Object.entries(i.secrets).filter(([k, v]) => granted.has(k) && typeof v === 'string'),
    )
    log.info({ version: loaded.version, operation: i.operation }, 'instruction started')
    try {
      const res = await this.o.sandbox.invoke(i.plugin, {
        operation: i.operation,
        input: i.input,
        config: i.config,
        secrets,
        invocationId: `${i.id}.${i.attempt}`.slice(0, 200),
        idempotencyKey: safeKey(i.idempotencyKey),
        deadline: Date.now() + i.timeoutMs,
        signal: r.abort.signal,
      })
      if (r.stopReason === 'cancel')
        return { ...base, body: { attempt: i.attempt, status: 'cancelled', logs: res.logs } }
      // Stopped at shutdown, its commands and fetches were cut short: a success it reports
      // may not be one, so it is handed back like a failure (the retry carries the same
      // idempotency key, so a plugin can tell work that did finish).
      if (r.stopReason === 'shutdown') return handBack()
      log.info({ wallMs: Math.round(res.stats.wallMs) }, 'instruction succeeded')
      return {
        ...base,
        body: { attempt: i.attempt, status: 'succeeded', output: res.output ?? null, logs: res.logs },
      }
    } catch (err) {
      const e = err as SandboxError
      if (r.stopReason === 'cancel')
        return { ...base, body: { attempt: i.attempt, status: 'cancelled', logs: e.logs ?? [] } }
      if (r.stopReason === 'shutdown') return handBack()
      log.warn({ code: e.code, error: e.message, retryable: e.retryable }, 'instruction failed')
      const entry = fail(e.code ?? 'STAVILY_ERR_PLUGIN_FAILED', e.message, e.retryable === true, e.data)
      entry.body.logs = e.logs ?? []
      return entry
    }
  }

  /** Reads the pool's desired set now and reconciles to it (the last one known if that fails). */
  private async refreshDesired(log: Logger): Promise<void> {
    let desired: DesiredSet | undefined
    try {
      desired = parseDesired((await this.o.api.request<unknown>('GET', '/plugins')).body)
    } catch (err) {
      log.warn({ error: (err as Error).message }, 'could not read the desired plugin set; using the last one')
    }
    await this.o.sync.reconcile(desired?.plugins)
  }

  /** Renews the lease; false (and the call stopped) when the attempt is no longer ours. */
  private async renew(r: Running, log: Logger): Promise<boolean> {
    const i = r.instruction
    try {
      const res = await this.o.api.request<{ cancel?: boolean }>(
        'POST',
        `/instructions/${encodeURIComponent(i.id)}/accept`,
        {
          body: { attempt: i.attempt },
        },
      )
      if (res.body?.cancel === true && !r.stopReason) {
        r.stopReason = 'cancel'
        r.abort.abort()
        log.info('instruction cancelled by the orchestrator')
      }
      return true
    } catch (err) {
      if (err instanceof ApiError && err.kind === 'not-held') {
        r.stopReason ??= 'not-held'
        r.abort.abort()
        log.warn('the orchestrator no longer holds this attempt for us; stopping it')
        return false
      }
      if (err instanceof ApiError && err.kind === 'unauthorized') this.o.onUnauthorized(err)
      // Network trouble: keep working; the next renewal (or the result) may get through.
      log.warn({ error: (err as Error).message }, 'lease renewal failed; will try again')
      return true
    }
  }
}

/**
 * The call's own lines (ctx.log, exec stderr) in the agent log too, under the call's ids,
 * as reported (already clipped), so an operator reading one agent's log sees what its
 * plugins said without the orchestrator.
 */
function logPluginLines(log: Logger, logs: unknown[] | undefined): void {
  for (const raw of logs ?? []) {
    const l = raw as ResultLog
    const level = l.level === 'debug' || l.level === 'warn' || l.level === 'error' ? l.level : 'info'
    log[level]({ from: l.source ?? 'plugin', ...(l.fields ? { fields: l.fields } : {}) }, l.message)
  }
}

/** The sandbox takes ids of 1-200 characters from A-Z a-z 0-9 . _ : @ / -. */
function safeKey(key: string): string {
  const cleaned = key.replace(/[^A-Za-z0-9._:@/-]/g, '_').slice(0, 200)
  return cleaned || 'key'
}
