// Collects sensor events into batches (up to eventBatchMax, or after eventBatchDelayMs) and
// writes each batch to the outbox; the sender delivers it.
import type { PluginEvent } from '../sandbox/protocol.ts'
import { AGENT_DEFAULTS } from './defaults.ts'
import type { Outbox, WireEvent } from './outbox.ts'

export class EventBatcher {
  private buffer: WireEvent[] = []
  private timer: NodeJS.Timeout | undefined
  emitted = 0

  constructor(
    private readonly outbox: Outbox,
    private readonly onWritten: () => void,
  ) {}

  add(source: string, sensorId: string, e: PluginEvent): void {
    this.buffer.push({
      source,
      type: e.type,
      data: e.data ?? null,
      ...(e.dedupeKey ? { dedupeKey: e.dedupeKey } : {}),
      occurredAt: e.occurredAt ?? new Date().toISOString(),
      sensorId,
    })
    this.emitted++
    if (this.buffer.length >= AGENT_DEFAULTS.eventBatchMax) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), AGENT_DEFAULTS.eventBatchDelayMs)
  }

  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.buffer.length === 0) return
    const events = this.buffer
    this.buffer = []
    this.outbox.add({ type: 'events', events })
    this.onWritten()
  }
}
