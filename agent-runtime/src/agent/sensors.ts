// Runs the sensor assignments of a sensor agent: `check` every intervalMs (jittered), or
// `watch` continuously (restarted with backoff when it ends). An assignment whose revision
// changed is stopped and started again with its new config.
import { randomUUID } from 'node:crypto'
import type { PluginEvent } from '../sandbox/protocol.ts'
import type { Sandbox } from '../sandbox/sandbox.ts'
import { jittered, sleep } from './backoff.ts'
import { AGENT_DEFAULTS } from './defaults.ts'
import type { SensorAssignment } from './desired.ts'
import type { EventBatcher } from './event-batcher.ts'
import type { Logger } from './logger.ts'
import type { PluginSync } from './plugin-sync.ts'

interface Task {
  a: SensorAssignment
  stop: AbortController
  done: Promise<void>
}

export class SensorRunner {
  private readonly tasks = new Map<string, Task>()
  checks = 0
  failures = 0
  /** Events taken from watch streams. */
  streamed = 0

  constructor(
    private readonly o: {
      sandbox: Sandbox
      sync: PluginSync
      batcher: EventBatcher
      log: Logger
      backoffMaxMs: () => number
      /** Fault injection for crash tests: after a check that emitted events (flushed to disk). */
      afterCheck?(emitted: number): void
      /** Fault injection for crash tests: after the agent took its `n`th streamed event. */
      afterStreamed?(n: number): void
    },
  ) {}

  /** Starts new assignments, restarts changed ones, stops removed ones. */
  async apply(assignments: SensorAssignment[], swapped: Set<string> = new Set()): Promise<void> {
    const wanted = new Map(assignments.map((a) => [a.id, a]))
    for (const [id, t] of this.tasks) {
      const next = wanted.get(id)
      // A watch holds its plugin version until it ends: restart it on a hot swap.
      const stale = t.a.watch && swapped.has(t.a.plugin)
      if (next && !stale && next.revision === t.a.revision && next.plugin === t.a.plugin) {
        // Same revision: secrets may have been refreshed; keep running.
        t.a.secrets = next.secrets
        continue
      }
      t.stop.abort()
      await t.done
      this.tasks.delete(id)
      this.o.log.info(
        { sensorId: id, revision: t.a.revision },
        next ? 'sensor restarting (new revision)' : 'sensor stopped (unassigned)',
      )
    }
    for (const a of assignments) {
      if (this.tasks.has(a.id)) continue
      const stop = new AbortController()
      const task: Task = { a: { ...a }, stop, done: Promise.resolve() }
      task.done = (a.watch ? this.watch(task) : this.check(task)).catch((err) =>
        this.o.log.error({ sensorId: a.id, err }, 'sensor loop ended unexpectedly'),
      )
      this.tasks.set(a.id, task)
      this.o.log.info(
        {
          sensorId: a.id,
          revision: a.revision,
          plugin: a.plugin,
          mode: a.watch ? 'watch' : 'check',
          intervalMs: a.intervalMs,
        },
        'sensor started',
      )
    }
  }

  async stopAll(): Promise<void> {
    for (const t of this.tasks.values()) t.stop.abort()
    await Promise.all([...this.tasks.values()].map((t) => t.done))
    this.tasks.clear()
  }

  private secretsFor(t: Task): Record<string, string> {
    const granted = new Set(this.o.sync.grantsFor(t.a.plugin).secrets)
    return Object.fromEntries(Object.entries(t.a.secrets).filter(([k]) => granted.has(k)))
  }

  private loaded(t: Task): boolean {
    return this.o.sandbox.list().some((p) => p.name === t.a.plugin)
  }

  private async check(t: Task): Promise<void> {
    const interval = t.a.intervalMs ?? 60_000
    // A random first delay within one interval, so sensors started together do not align.
    await sleep(Math.random() * Math.min(interval, 1_000), t.stop.signal)
    while (!t.stop.signal.aborted) {
      if (this.loaded(t)) {
        const id = randomUUID()
        let emitted = 0
        const add = (e: PluginEvent) => {
          emitted++
          this.o.batcher.add(t.a.plugin, t.a.id, e)
        }
        try {
          this.checks++
          const res = await this.o.sandbox.invoke(t.a.plugin, {
            operation: 'check',
            config: t.a.config,
            secrets: this.secretsFor(t),
            invocationId: `sensor-${id}`,
            idempotencyKey: `sensor-${id}`,
            signal: t.stop.signal,
            onEvent: add,
          })
          for (const e of res.events) add(e)
          // A finished check's events go to disk now, not after the batch delay: a kill -9
          // right after the check must not lose them. (A watch's stream stays batched.)
          this.o.batcher.flush()
          this.o.afterCheck?.(emitted)
        } catch (err) {
          // Stopped mid-check (the sensor was removed, or the agent stops): its fetch was
          // aborted on purpose, which is not a failure.
          if (t.stop.signal.aborted) break
          this.failures++
          const e = err as { code?: string; message: string }
          this.o.log.warn(
            { sensorId: t.a.id, plugin: t.a.plugin, code: e.code, error: e.message },
            'sensor check failed',
          )
        }
      }
      await sleep(jittered(interval, AGENT_DEFAULTS.jitter), t.stop.signal)
    }
  }

  private async watch(t: Task): Promise<void> {
    let delay: number = AGENT_DEFAULTS.watchRestartMs
    while (!t.stop.signal.aborted) {
      if (this.loaded(t)) {
        const id = randomUUID()
        const started = Date.now()
        try {
          await this.o.sandbox.invoke(t.a.plugin, {
            operation: 'watch',
            config: t.a.config,
            secrets: this.secretsFor(t),
            invocationId: `watch-${id}`,
            idempotencyKey: `watch-${id}`,
            signal: t.stop.signal,
            onEvent: (e) => {
              this.o.batcher.add(t.a.plugin, t.a.id, e)
              this.streamed++
              this.o.afterStreamed?.(this.streamed)
            },
          })
          if (!t.stop.signal.aborted)
            this.o.log.info({ sensorId: t.a.id }, 'sensor watch ended; restarting it')
        } catch (err) {
          if (t.stop.signal.aborted) break
          this.failures++
          const e = err as { code?: string; message: string }
          this.o.log.warn(
            { sensorId: t.a.id, plugin: t.a.plugin, code: e.code, error: e.message },
            'sensor watch failed; restarting it',
          )
        }
        // A watch that ran a while was healthy: restart soon; one that keeps failing backs off.
        delay =
          Date.now() - started > 60_000
            ? AGENT_DEFAULTS.watchRestartMs
            : Math.min(delay * 2, this.o.backoffMaxMs())
      }
      await sleep(jittered(delay, AGENT_DEFAULTS.jitter), t.stop.signal)
    }
  }
}
