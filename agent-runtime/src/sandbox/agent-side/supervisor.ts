// Starts the sandbox host child, watches it (exit, heartbeat) and restarts it with backoff.
// The owner (sandbox.ts) is told when the host goes down, so it fails the calls in flight,
// and asked to reload its plugins before queued messages flow again.
import { type ChildProcess, fork } from 'node:child_process'
import { SUPERVISOR_DEFAULTS } from '../../defaults.ts'
import { fromSerialized, SandboxErrorCodes, type SerializedError, sandboxError } from '../../errors.ts'
import type { FromHost, ToHost } from '../protocol.ts'
import { hostEntry } from './host-entry.ts'

export interface SupervisorOptions {
  heartbeatIntervalMs: number
  hangTimeoutMs: number
  restartBackoffMinMs: number
  restartBackoffMaxMs: number
  restartBackoffResetMs: number
  /** A message from the host (except replies to requests, handled here). */
  onMessage(message: FromHost): void
  /** The host died or was killed; every call in flight is lost. */
  onDown(reason: string): void
  /** A new host is up; reload plugins with `requestNow` before queued messages are sent. */
  onRestarted(): Promise<void>
  /** stderr of the host, for the agent's log. */
  onStderr?(text: string): void
}

type RequestBody = ToHost extends infer M ? (M extends { rid: number } ? Omit<M, 'rid'> : never) : never

export class Supervisor {
  private child: ChildProcess | undefined
  private state: 'starting' | 'ready' | 'down' | 'closed' = 'down'
  private queue: ToHost[] = []
  private outbox: ToHost[] = []
  private flushScheduled = false
  private readonly waiters = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  private nextRid = 1
  private pingN = 0
  private lastPong = 0
  private heartbeat: NodeJS.Timeout | undefined
  private restartTimer: NodeJS.Timeout | undefined
  private failures = 0
  private startedAt = 0
  private readyWaiters: { resolve(): void; reject(e: Error): void }[] = []
  /**
   * The longest a plugin slice may legitimately hold the host (the largest CPU limit of the
   * plugins loaded): a heartbeat missed for that long is a busy host, not a hung one.
   */
  sliceAllowanceMs = 0
  restarts = 0
  pid: number | undefined
  ivmName: string | undefined

  constructor(private readonly o: SupervisorOptions) {}

  /** Starts the host and resolves when it is ready. */
  start(): Promise<void> {
    this.spawn()
    return this.whenReady()
  }

  whenReady(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve()
    if (this.state === 'closed') return Promise.reject(closedError())
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }))
  }

  private spawn(): void {
    const entry = hostEntry()
    this.state = 'starting'
    this.startedAt = Date.now()
    const child = fork(entry.file, [], {
      execArgv: entry.execArgv,
      env: entry.env,
      // JSON, not structured clone: see protocol.ts.
      serialization: 'json',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    })
    this.child = child
    this.pid = child.pid
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (text: string) => this.o.onStderr?.(text))
    child.on('message', (batch: FromHost[] | { t: 'fatal'; error: SerializedError }) => {
      if (!Array.isArray(batch)) {
        if (batch.t === 'fatal') this.fatal(fromSerialized(batch.error))
        return
      }
      for (const m of batch) this.onMessage(child, m)
    })
    child.on('exit', (code, signal) => this.onExit(child, code, signal))
    child.on('error', () => {
      // 'exit' follows; an IPC write error on a dying child is expected.
    })
    this.lastPong = Date.now()
    clearInterval(this.heartbeat)
    this.heartbeat = setInterval(() => this.beat(), this.o.heartbeatIntervalMs)
    this.heartbeat.unref()
  }

  /** The host cannot run here at all (no isolated-vm build loads): restarting would not help. */
  private fatal(error: Error): void {
    this.state = 'closed'
    clearInterval(this.heartbeat)
    for (const w of this.readyWaiters.splice(0)) w.reject(error)
    for (const w of this.waiters.values()) w.reject(error)
    this.waiters.clear()
    this.queue = []
    this.o.onDown(error.message)
  }

  private beat(): void {
    const child = this.child
    if (!child || this.state === 'closed' || this.state === 'down') return
    // Startup (tsx compile, isolated-vm load) may take longer than a heartbeat on a loaded box.
    const hang = this.o.hangTimeoutMs + this.sliceAllowanceMs
    const limit = this.state === 'starting' ? Math.max(hang, 30_000) : hang
    if (Date.now() - this.lastPong > limit) {
      this.o.onStderr?.(`sandbox host ${child.pid} did not answer for ${limit} ms; killing it\n`)
      child.kill('SIGKILL')
      return
    }
    if (this.state === 'ready') this.sendRaw([{ t: 'ping', n: ++this.pingN }])
  }

  private onMessage(child: ChildProcess, m: FromHost): void {
    if (child !== this.child) return
    this.lastPong = Date.now()
    switch (m.t) {
      case 'ready':
        this.ivmName = m.ivm
        void this.afterStart()
        return
      case 'pong':
        return
      case 'reply': {
        const w = this.waiters.get(m.rid)
        if (!w) return
        this.waiters.delete(m.rid)
        if (m.ok) w.resolve(m.value)
        else w.reject(fromSerialized(m.error!))
        return
      }
      default:
        this.o.onMessage(m)
    }
  }

  private async afterStart(): Promise<void> {
    const restarted = this.restarts > 0
    try {
      if (restarted) await this.o.onRestarted()
    } finally {
      if (this.state === 'starting') {
        this.state = 'ready'
        const queued = this.queue
        this.queue = []
        for (const m of queued) this.post(m)
        for (const w of this.readyWaiters.splice(0)) w.resolve()
      }
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child !== this.child) return
    this.child = undefined
    this.pid = undefined
    clearInterval(this.heartbeat)
    const reason = `the sandbox host exited (${signal ? `signal ${signal}` : `code ${code}`})`
    for (const w of this.waiters.values()) w.reject(sandboxError(SandboxErrorCodes.CRASHED, reason))
    this.waiters.clear()
    this.outbox = []
    if (this.state === 'closed') return
    this.state = 'down'
    this.o.onDown(reason)
    if (Date.now() - this.startedAt > this.o.restartBackoffResetMs) this.failures = 0
    this.failures++
    const delay = Math.min(this.o.restartBackoffMaxMs, this.o.restartBackoffMinMs * 2 ** (this.failures - 1))
    this.restartTimer = setTimeout(() => {
      this.restarts++
      this.spawn()
    }, delay)
  }

  get ready(): boolean {
    return this.state === 'ready'
  }

  /** Takes a message out of the restart queue; false when it was already sent (or never queued). */
  unqueue(match: (m: ToHost) => boolean): boolean {
    const i = this.queue.findIndex(match)
    if (i < 0) return false
    this.queue.splice(i, 1)
    return true
  }

  /** Sends when the host is ready; queued while it (re)starts. */
  post(m: ToHost): void {
    if (this.state === 'closed') throw closedError()
    if (this.state !== 'ready') {
      this.queue.push(m)
      return
    }
    this.outbox.push(m)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      queueMicrotask(() => this.flush())
    }
  }

  private flush(): void {
    this.flushScheduled = false
    if (this.outbox.length === 0) return
    const batch = this.outbox
    this.outbox = []
    this.sendRaw(batch)
  }

  private sendRaw(batch: ToHost[]): void {
    const child = this.child
    if (!child?.connected) return
    child.send(batch, (err) => {
      // The host is going down; its exit fails what was in flight.
      if (err) child.kill('SIGKILL')
    })
  }

  /** A request answered by a reply (load, unload, stats), once the host is ready. */
  request(body: RequestBody): Promise<unknown> {
    return this.requestVia(body, (m) => this.post(m))
  }

  /** The same, sent at once even while (re)starting: only for onRestarted. */
  requestNow(body: RequestBody): Promise<unknown> {
    return this.requestVia(body, (m) => this.sendRaw([m]))
  }

  private requestVia(body: RequestBody, send: (m: ToHost) => void): Promise<unknown> {
    const rid = this.nextRid++
    return new Promise((resolve, reject) => {
      this.waiters.set(rid, { resolve, reject })
      try {
        send({ ...body, rid } as ToHost)
      } catch (err) {
        this.waiters.delete(rid)
        reject(err as Error)
      }
    })
  }

  /** Kills the host (tests, and a host the owner decided is stuck). */
  kill(): void {
    this.child?.kill('SIGKILL')
  }

  async close(graceMs: number = SUPERVISOR_DEFAULTS.closeGraceMs): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    clearInterval(this.heartbeat)
    clearTimeout(this.restartTimer)
    for (const w of this.readyWaiters.splice(0)) w.reject(closedError())
    for (const w of this.waiters.values()) w.reject(closedError())
    this.waiters.clear()
    const child = this.child
    if (!child) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      child.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      // Closing the IPC channel makes the host exit on its own.
      if (child.connected) child.disconnect()
      else child.kill('SIGKILL')
    })
  }
}

function closedError(): Error {
  return sandboxError(SandboxErrorCodes.CLOSED, 'the sandbox is closed')
}
