// The agent: identity, the sandbox with the desired plugins, and the loops that talk to the
// orchestrator (heartbeat, long-poll, plugin sync, outbox sender), all with server-set
// intervals, jitter, and backoff on errors. `stop()` is the graceful shutdown.
import { mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { type HeartbeatReply, LOADED_PLUGIN_LIMITS, type PollReply } from '@stavily/protocol'
import { createFileStateStore } from '../sandbox/agent-side/state-store.ts'
import { createSandbox, type Sandbox } from '../sandbox/sandbox.ts'
import { ApiClient, ApiError } from './api-client.ts'
import { Backoff, jittered, sleep } from './backoff.ts'
import type { AgentConfig } from './config.ts'
import { rotationLoop } from './credential-rotation.ts'
import {
  credentialIssuedAt,
  readCredential,
  type StoredCredential,
  writeCredential,
} from './credential-store.ts'
import { AGENT_DEFAULTS, type Intervals } from './defaults.ts'
import { type DesiredSet, parseDesired, readDesired, writeDesired } from './desired.ts'
import { AgentError, AgentErrorCodes, configError } from './errors.ts'
import { EventBatcher } from './event-batcher.ts'
import { Executor } from './executor.ts'
import { boundAddress, closeHealthServer, type Readiness, startHealthServer } from './health-server.ts'
import { parseInstruction } from './instruction.ts'
import type { Logger } from './logger.ts'
import { AgentMetrics } from './metrics.ts'
import { instrumentSandbox } from './metrics-sandbox.ts'
import { Outbox } from './outbox.ts'
import { PluginStore } from './plugin-store.ts'
import { PluginSync } from './plugin-sync.ts'
import { Sender } from './sender.ts'
import { SensorRunner } from './sensors.ts'
import { installTlsClient } from './tls-client.ts'

export const AGENT_VERSION = '0.1.0'

export interface AgentStatus {
  agentId: string
  kind: 'sensor' | 'action'
  pool: string
}

/** Points where a crash test makes the agent die (test/agent/helpers/faulty-agent.ts). */
export interface AgentFaults {
  afterOutbox?(): void
  afterCheck?(emitted: number): void
  afterStreamed?(n: number): void
}

export class Agent {
  private intervals: Intervals = { ...AGENT_DEFAULTS.intervals }
  private readonly api: ApiClient
  private readonly outbox: Outbox
  private readonly stopping = new AbortController()
  private sandbox!: Sandbox
  private sync!: PluginSync
  private executor!: Executor
  private sensors!: SensorRunner
  private batcher!: EventBatcher
  private sender!: Sender
  private store!: PluginStore
  private identity!: StoredCredential
  private desired: DesiredSet = { plugins: [], sensors: [] }
  private draining = false
  private loops: Promise<void>[] = []
  private fatalError: AgentError | undefined
  private syncRequested: (() => void) | undefined
  private readonly metrics = new AgentMetrics()
  private health: Server | undefined
  private readonly tls: { reload(): void }
  /** When the desired plugin set was last read from the orchestrator and applied. */
  private lastSyncAt: number | undefined
  /** Resolves when the agent stopped by itself (a fatal error); `stop()` for the graceful path. */
  readonly finished: Promise<AgentError | undefined>
  private finish!: (e: AgentError | undefined) => void

  constructor(
    private readonly config: AgentConfig,
    private readonly log: Logger,
    /** Fault injection for crash tests (never set by the stavily-agent bin). */
    private readonly faults: AgentFaults = {},
  ) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
    this.tls = installTlsClient(config.tls, config.orchestratorUrl)
    this.api = new ApiClient(config.orchestratorUrl, `stavily-agent/${AGENT_VERSION}`)
    this.outbox = new Outbox(config.dataDir, config.outboxMaxBytes)
    this.finished = new Promise((resolve) => {
      this.finish = resolve
    })
  }

  /** Reads the TLS files again (SIGHUP): a renewed client certificate or CA bundle. */
  reloadTls(): void {
    this.tls.reload()
  }

  get status(): AgentStatus {
    return { agentId: this.identity.agentId, kind: this.identity.kind, pool: this.identity.pool }
  }

  async start(): Promise<void> {
    // First, so /healthz answers (and /readyz says why not ready) while the agent enrolls.
    if (this.config.healthListen) {
      this.health = await startHealthServer(this.config.healthListen, {
        readiness: () => this.readiness(),
        metrics: () => this.renderMetrics(),
      })
      this.log.info({ address: boundAddress(this.health) }, 'health listener started')
    }
    const stored = readCredential(this.config.dataDir)
    this.identity = stored ?? (await this.enroll())
    this.api.credential = this.identity.credential
    if (this.config.kind && this.config.kind !== this.identity.kind)
      throw configError(
        'kind',
        `this agent is enrolled as a ${this.identity.kind} agent, not ${this.config.kind}`,
      )
    if (this.config.pool && this.config.pool !== this.identity.pool)
      throw configError(
        'pool',
        `this agent is enrolled in pool "${this.identity.pool}", not "${this.config.pool}"`,
      )
    this.log.info(
      {
        agentId: this.identity.agentId,
        kind: this.identity.kind,
        pool: this.identity.pool,
        orchestrator: this.config.orchestratorUrl,
      },
      stored ? 'starting with the stored credential' : 'enrolled',
    )

    this.sandbox = instrumentSandbox(
      await createSandbox({
        stateStore: createFileStateStore(join(this.config.dataDir, 'state')),
        onDiagnostic: (text) => this.log.warn({ sandbox: text.trim() }, 'sandbox host'),
      }),
      this.metrics,
    )
    this.store = new PluginStore({
      registryUrl: this.config.registryUrl,
      dataDir: this.config.dataDir,
      trustedRootFile: this.config.trustedRootFile,
      log: this.log,
    })
    this.sync = new PluginSync(
      this.sandbox,
      this.store,
      this.config,
      this.log,
      this.identity.kind,
      this.identity.pool,
    )
    const onUnauthorized = (err: ApiError) => this.fatal(err)
    // An action agent's results ask for its next work (Executor.askNext); a sensor's have none.
    const nextWork =
      this.identity.kind === 'action'
        ? {
            askNext: (id: string) => this.executor?.askNext(id) ?? 0,
            takeNext: (id: string, reply: unknown) => this.executor?.takeNext(id, reply),
          }
        : undefined
    this.sender = new Sender(this.outbox, this.api, () => this.intervals, this.log, onUnauthorized, nextWork)
    this.batcher = new EventBatcher(this.outbox, () => this.sender.wake(), this.log)
    this.executor = new Executor({
      sandbox: this.sandbox,
      api: this.api,
      outbox: this.outbox,
      sync: this.sync,
      intervals: () => this.intervals,
      log: this.log,
      concurrency: this.config.concurrency,
      onResultWritten: () => this.sender.wake(),
      onUnauthorized,
      onDrain: () => {
        if (this.draining) return
        this.draining = true
        this.log.info('drain: finishing held work, taking nothing new')
      },
      ...(this.faults.afterOutbox ? { afterOutbox: this.faults.afterOutbox } : {}),
    })
    this.sensors = new SensorRunner({
      sandbox: this.sandbox,
      sync: this.sync,
      batcher: this.batcher,
      log: this.log,
      backoffMaxMs: () => this.intervals.backoffMaxMs,
      ...(this.faults.afterCheck ? { afterCheck: this.faults.afterCheck } : {}),
      ...(this.faults.afterStreamed ? { afterStreamed: this.faults.afterStreamed } : {}),
    })

    // Replay what a previous run could not send, then run the cached, verified plugins
    // before the orchestrator is reachable (it may be down: they still run).
    const replay = this.outbox.size
    if (replay > 0) this.log.info({ entries: replay }, 'outbox: replaying reports left from the last run')
    this.sender.start()
    await this.store.open()
    const cached = readDesired(this.config.dataDir)
    if (cached) {
      this.desired = cached
      await this.applyDesired(cached)
    }
    this.loops = [this.heartbeatLoop(), this.syncLoop(), this.rotationLoop()]
    if (this.identity.kind === 'action') this.loops.push(this.pollLoop())
  }

  /** Graceful shutdown: stop polling, finish in-flight calls (hand back the rest), send results. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return
    this.stopping.abort()
    this.syncRequested?.()
    this.log.info(
      { inFlight: this.executor?.inFlight ?? 0 },
      'shutting down: no new work; finishing calls in flight',
    )
    await this.sensors?.stopAll()
    await this.executor?.drain(this.config.shutdownGraceMs)
    this.batcher?.flush()
    const sent = await this.sender?.flush(Date.now() + 10_000)
    if (!sent)
      this.log.warn(
        { queued: this.outbox.size },
        'outbox not empty at shutdown; it is sent on the next start',
      )
    await this.sender?.stop()
    await Promise.all(this.loops)
    await this.sandbox?.close()
    await closeHealthServer(this.health)
    this.log.info('stopped')
  }

  /** Hard stop without waiting (second SIGINT): the outbox keeps what was not sent. */
  async kill(): Promise<void> {
    this.stopping.abort()
    if (this.executor) this.executor.abandoned = true
    await this.sandbox?.close()
    await closeHealthServer(this.health)
  }

  /** /readyz: enrolled, the desired plugins read and all loaded, the outbox not full. */
  readiness(): Readiness {
    const reasons: string[] = []
    if (this.stopping.signal.aborted) reasons.push('shutting down')
    if (this.fatalError) reasons.push(this.fatalError.message)
    if (!this.sync) reasons.push('not started: enrolling or starting the sandbox')
    else if (this.lastSyncAt === undefined)
      reasons.push('the desired plugin set has not been read from the orchestrator yet')
    for (const [name, e] of this.sync?.failures ?? []) reasons.push(`${name}: ${e.code}: ${e.message}`)
    if (this.outbox.full)
      reasons.push(`the outbox is full (${this.outbox.bytes} bytes): new sensor events are dropped`)
    return {
      ready: reasons.length === 0,
      reasons,
      agentId: this.identity?.agentId,
      plugins: this.pluginStates(),
      outbox: { entries: this.outbox.size, quarantined: this.outbox.quarantined },
    }
  }

  private pluginStates(): { name: string; version: string; state: string }[] {
    if (!this.sync) return []
    const loaded = new Map(this.sandbox.list().map((p) => [p.name, p.version]))
    return this.desired.plugins
      .filter((p) => !this.sync.otherKind.has(p.name))
      .map((p) => {
        const failure = this.sync.failures.get(p.name)
        const state =
          failure?.code === AgentErrorCodes.PLUGIN_NOT_ALLOWED
            ? 'not_allowed'
            : failure
              ? 'failed'
              : loaded.get(p.name) === p.version
                ? 'loaded'
                : 'pending'
        return { name: p.name, version: p.version, state }
      })
  }

  private async renderMetrics(): Promise<string> {
    const stats = this.sandbox ? await this.sandbox.stats().catch(() => undefined) : undefined
    return this.metrics.render({
      outboxEntries: this.outbox.size,
      outboxBytes: this.outbox.bytes,
      outboxFull: this.outbox.full,
      quarantined: this.outbox.quarantined,
      lastSyncSeconds: this.lastSyncAt === undefined ? undefined : this.lastSyncAt / 1000,
      plugins: this.pluginStates(),
      sandbox: stats && { restarts: stats.hostRestarts, rssBytes: stats.hostRssBytes },
      ready: this.readiness().ready,
      credentialAgeSeconds: this.identity
        ? (Date.now() - credentialIssuedAt(this.config.dataDir, this.identity)) / 1000
        : undefined,
    })
  }

  /** Stops the agent on an answer no retry can change: a refused credential, or another 4xx. */
  private fatal(err: ApiError, what = 'request'): void {
    if (this.fatalError) return
    const data = { data: { status: err.status, code: err.code } }
    this.fatalError =
      err.kind === 'unauthorized'
        ? new AgentError(
            AgentErrorCodes.UNAUTHORIZED,
            `the orchestrator refused this agent's credential (${err.code ?? err.status}): it was revoked or rotated elsewhere. ` +
              `Enroll again: delete ${join(this.config.dataDir, 'credential.json')} and start the agent with a new --enrollment-token`,
            data,
          )
        : new AgentError(
            AgentErrorCodes.REFUSED,
            `the orchestrator refused this agent's ${what} (${err.status} ${err.code ?? ''}): ${err.message}. ` +
              "Sending it again cannot succeed: run an agent of the orchestrator's version (this one may be older or newer), or report it as a bug",
            data,
          )
    this.log.fatal({ code: err.code, status: err.status }, this.fatalError.message)
    this.finish(this.fatalError)
  }

  private async enroll(): Promise<StoredCredential> {
    const token = this.config.enrollmentToken
    if (!token)
      throw configError(
        'enrollmentToken',
        `required on the first start (no stored credential in ${this.config.dataDir}); pass --enrollment-token or STAVILY_ENROLLMENT_TOKEN`,
      )
    const backoff = new Backoff(() => this.intervals)
    for (;;) {
      try {
        const res = await this.api.request<{
          agentId: string
          orgId: string
          kind: 'sensor' | 'action'
          pool: string
          credential: string
          intervals?: Partial<Intervals>
        }>('POST', '/register', {
          auth: false,
          body: {
            enrollmentToken: token,
            name: this.config.name,
            labels: this.config.labels,
            version: AGENT_VERSION,
            secretGrants: this.secretGrants(),
          },
        })
        const c: StoredCredential = {
          agentId: res.body.agentId,
          orgId: res.body.orgId,
          kind: res.body.kind,
          pool: res.body.pool,
          credential: res.body.credential,
          orchestratorUrl: this.config.orchestratorUrl,
          issuedAt: new Date().toISOString(),
        }
        // Stored before use: a crash right after enrolling must not lose the one-time token's worth.
        writeCredential(this.config.dataDir, c)
        this.updateIntervals(res.body.intervals)
        return c
      } catch (err) {
        if (!(err instanceof ApiError)) throw err
        if (err.kind === 'unauthorized' || err.kind === 'refused')
          throw new AgentError(
            AgentErrorCodes.UNAUTHORIZED,
            `enrollment refused (${err.code ?? err.status}): the enrollment token is unknown, expired, revoked or used up; mint a new one (stavily agent token) and pass it with --enrollment-token. ${err.message}`,
            { field: 'enrollmentToken' },
          )
        const delay = err.kind === 'rate-limited' ? (err.retryAfterMs ?? backoff.next()) : backoff.next()
        this.log.warn({ error: err.message, retryInMs: Math.round(delay) }, 'enrollment failed; retrying')
        await sleep(delay, this.stopping.signal)
        if (this.stopping.signal.aborted) throw err
      }
    }
  }

  /**
   * The secrets the operator granted (to every plugin, and per plugin), reported at
   * enrollment and with each heartbeat: the orchestrator sends only declared ∩ granted, so
   * a secret this agent would drop never reaches it.
   */
  private secretGrants(): { all: string[]; plugins: Record<string, string[]> } {
    const plugins: Record<string, string[]> = {}
    for (const [name, p] of Object.entries(this.config.plugins))
      if (p.grants.secrets.length > 0) plugins[name] = p.grants.secrets
    return { all: this.config.grants.secrets, plugins }
  }

  /**
   * The plugins in the sandbox right now, reported with each heartbeat so operators see what
   * runs rather than what the pool asks for (a download in progress, a local refusal or a
   * failed load make them differ).
   */
  private loadedPlugins(): { name: string; version: string }[] {
    return this.sandbox
      .list()
      .slice(0, LOADED_PLUGIN_LIMITS.count)
      .map((p) => ({ name: p.name, version: p.version }))
  }

  private updateIntervals(i: Partial<Intervals> | undefined): void {
    if (!i) return
    for (const k of Object.keys(this.intervals) as (keyof Intervals)[]) {
      const v = i[k]
      if (typeof v === 'number' && v > 0) this.intervals[k] = v
    }
  }

  /** Acts on a failure of a loop's request; returns the delay before trying again. */
  private onLoopError(err: unknown, backoff: Backoff, what: string): number {
    if (err instanceof ApiError) {
      // 401, or another 4xx that is neither a rate limit nor a timeout: the same request
      // would be refused again.
      if (err.kind === 'unauthorized' || err.kind === 'refused') {
        this.fatal(err, what)
        return 0
      }
      if (err.kind === 'retry-now') return jittered(200, 0.5)
      if (err.kind === 'rate-limited') return err.retryAfterMs ?? backoff.next()
    }
    const delay = backoff.next()
    this.log.warn({ error: (err as Error).message, retryInMs: Math.round(delay) }, `${what} failed; retrying`)
    return delay
  }

  private get done(): boolean {
    return this.stopping.signal.aborted || this.fatalError !== undefined
  }

  private async heartbeatLoop(): Promise<void> {
    const backoff = new Backoff(() => this.intervals)
    while (!this.done) {
      let delay: number
      try {
        const res = await this.api.request<Partial<HeartbeatReply>>('POST', '/heartbeat', {
          body: {
            version: AGENT_VERSION,
            secretGrants: this.secretGrants(),
            loadedPlugins: this.loadedPlugins(),
          },
          signal: this.stopping.signal,
        })
        backoff.reset()
        this.updateIntervals(res.body.intervals)
        const drain = res.body.drain === true
        if (drain !== this.draining) {
          this.draining = drain
          this.log.info(
            drain ? 'drain: finishing held work, taking nothing new' : 'drain lifted: taking work again',
          )
        }
        if (res.body.cancel?.length) this.executor.cancel(res.body.cancel)
        if (res.body.pluginsChanged === true) this.requestSync()
        delay = jittered(this.intervals.heartbeatMs, AGENT_DEFAULTS.jitter)
      } catch (err) {
        if (this.done) break
        delay = this.onLoopError(err, backoff, 'heartbeat')
      }
      await sleep(delay, this.stopping.signal)
    }
  }

  private rotationLoop(): Promise<void> {
    return rotationLoop({
      api: this.api,
      dataDir: this.config.dataDir,
      lifetimeMs: this.config.credentialLifetimeMs,
      marginMs: this.config.credentialRotateMarginMs,
      intervals: () => this.intervals,
      log: this.log,
      signal: this.stopping.signal,
      identity: () => this.identity,
      rotated: (c) => {
        this.identity = c
        this.metrics.credentialRotations++
      },
      onError: (err, backoff) => this.onLoopError(err, backoff, 'credential rotation'),
      done: () => this.done,
    })
  }

  private requestSync(): void {
    this.syncRequested?.()
  }

  private async syncLoop(): Promise<void> {
    const backoff = new Backoff(() => this.intervals)
    while (!this.done) {
      let delay: number
      try {
        const res = await this.api.request<unknown>('GET', '/plugins', { signal: this.stopping.signal })
        backoff.reset()
        const desired = parseDesired(res.body)
        if (JSON.stringify(desired) !== JSON.stringify(this.desired) || this.sync.failures.size > 0) {
          this.desired = desired
          writeDesired(this.config.dataDir, desired)
          await this.applyDesired(desired)
        }
        this.lastSyncAt = Date.now()
        delay = jittered(this.config.pluginSyncMs, AGENT_DEFAULTS.jitter)
      } catch (err) {
        if (this.done) break
        this.metrics.syncErrors++
        delay = this.onLoopError(err, backoff, 'plugin sync')
      }
      await new Promise<void>((resolve) => {
        this.syncRequested = resolve
        void sleep(delay, this.stopping.signal).then(resolve)
      })
      this.syncRequested = undefined
    }
  }

  private async applyDesired(desired: DesiredSet): Promise<void> {
    const before = new Map(this.sandbox.list().map((p) => [p.name, p.version]))
    await this.sync.reconcile(desired.plugins)
    const swapped = new Set(
      this.sandbox
        .list()
        .filter((p) => before.has(p.name) && before.get(p.name) !== p.version)
        .map((p) => p.name),
    )
    if (this.identity.kind === 'sensor' && !this.done) await this.sensors.apply(desired.sensors, swapped)
  }

  private async pollLoop(): Promise<void> {
    const backoff = new Backoff(() => this.intervals)
    while (!this.done) {
      await this.executor.whenFree(this.stopping.signal)
      if (this.done) break
      let delay = 0
      // The slots asked for are reserved until the answer (a result's reply must not ask for them too).
      const max = Math.min(AGENT_DEFAULTS.askMax, this.executor.free)
      // Taken meanwhile by a result's reply: wait for a slot again.
      if (max === 0) continue
      this.executor.reserve(max)
      try {
        // Read liberally (each instruction through parseInstruction): fields an older
        // orchestrator leaves out get defaults.
        const res = await this.api.request<Partial<PollReply>>('GET', `/instructions?max=${max}`, {
          signal: this.stopping.signal,
          timeoutMs: this.intervals.pollWaitMs + AGENT_DEFAULTS.pollSlackMs,
        })
        backoff.reset()
        if (res.body.cancel?.length) this.executor.cancel(res.body.cancel)
        if (res.body.drain === true && !this.draining) {
          this.draining = true
          this.log.info('drain: finishing held work, taking nothing new')
        }
        const handed = res.body.instructions ?? []
        for (const raw of handed) {
          const i = parseInstruction(raw)
          if (i) this.executor.start(i)
          else this.log.error({ instruction: raw }, 'poll answer carried an unreadable instruction; ignored')
        }
        // While draining the server answers at once with nothing: do not spin.
        if (res.body.drain === true) delay = jittered(this.intervals.heartbeatMs, AGENT_DEFAULTS.jitter)
        // An answer with work: poll again at once (when a slot is free), as more may be queued;
        // pausing here delayed the next run's pickup by up to 100 ms. An empty answer pauses
        // briefly, so a server answering at once with nothing is never spun on.
        else delay = handed.length > 0 ? 0 : jittered(AGENT_DEFAULTS.emptyPollPauseMs, 1)
      } catch (err) {
        if (this.done) break
        delay = this.onLoopError(err, backoff, 'poll')
      } finally {
        // After the answer's instructions started, so their slots are never counted free.
        this.executor.release(max)
      }
      await sleep(delay, this.stopping.signal)
    }
  }
}
