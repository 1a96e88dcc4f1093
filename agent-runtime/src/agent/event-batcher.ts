// Takes sensor events as they arrive: each is made safe and checked with the orchestrator's
// rules (report-safety.ts), then appended to the outbox's open journal at once, so a kill -9
// cannot lose an event the agent received. The journal is sealed into one outbox entry per
// eventBatchMax events or after eventBatchDelayMs (the batched fsync); the sender delivers it.
import type { PluginEvent } from '../sandbox/protocol.ts'
import { AGENT_DEFAULTS } from './defaults.ts'
import type { Logger } from './logger.ts'
import type { EventJournal, Outbox } from './outbox.ts'
import { prepareEvent } from './report-safety.ts'

export class EventBatcher {
  private journal: EventJournal | undefined
  private timer: NodeJS.Timeout | undefined
  /** Log lines held back per kind, so a flood of bad events is not a flood of log lines. */
  private readonly quiet = new Map<string, { at: number; held: number }>()
  emitted = 0
  /** Events that broke the agent API's rules (logged, never written). */
  refused = 0
  /** Events dropped because the outbox was at its size cap. */
  dropped = 0

  constructor(
    private readonly outbox: Outbox,
    private readonly onWritten: () => void,
    private readonly log?: Logger,
  ) {}

  add(source: string, sensorId: string, e: PluginEvent): void {
    const checked = prepareEvent(source, sensorId, e)
    if (!checked.ok) {
      this.refused++
      this.warn(`refused:${sensorId}:${checked.field}`, (held) =>
        this.log?.warn(
          { sensorId, plugin: source, field: checked.field, error: checked.message, alsoRefused: held },
          `sensor event refused before the outbox: ${checked.field} ${checked.message}`,
        ),
      )
      return
    }
    if (this.outbox.full) {
      this.dropped++
      this.warn('full', (held) =>
        this.log?.warn(
          {
            sensorId,
            plugin: source,
            outboxBytes: this.outbox.bytes,
            dropped: this.dropped,
            alsoDropped: held,
          },
          'outbox full: new sensor events are dropped until the orchestrator takes the queued reports',
        ),
      )
      return
    }
    this.journal ??= this.outbox.openJournal()
    this.journal.append(checked.event)
    this.emitted++
    if (this.journal.events.length >= AGENT_DEFAULTS.eventBatchMax) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), AGENT_DEFAULTS.eventBatchDelayMs)
  }

  /** Seals the open journal into an outbox entry now. */
  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const j = this.journal
    if (!j) return
    this.journal = undefined
    j.seal()
    this.onWritten()
  }

  private warn(key: string, write: (held: number) => void): void {
    const now = Date.now()
    const q = this.quiet.get(key)
    if (q && now - q.at < AGENT_DEFAULTS.droppedLogEveryMs) {
      q.held++
      return
    }
    write(q?.held ?? 0)
    // Keys carry field paths a plugin chooses: forget them all rather than grow without end.
    if (this.quiet.size > 1_000) this.quiet.clear()
    this.quiet.set(key, { at: now, held: 0 })
  }
}
