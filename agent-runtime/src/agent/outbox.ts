// The durable outbox: every result and event batch is a file in <dataDir>/outbox, written
// and fsynced before the work counts as done, deleted only after the orchestrator answered.
// Files are named by a sequence so a replay after a crash sends them in the original order.
//
// A watch's streamed events are appended, one line each, to an open journal
// (`<id>.jsonl`) the moment they reach the agent, and sealed into an entry after the batch
// window (the fsync is batched there): a kill -9 of the agent loses none of them, a power
// cut at most one window. A journal left by a crash is sealed at the next start.
//
// Reports the orchestrator refused, or failed on again and again while it took others, are
// moved to <dataDir>/outbox-quarantine for an operator to inspect.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import type { WireEvent } from '@stavily/protocol'
import { AGENT_DEFAULTS } from './defaults.ts'
import { fsyncDir, writeFileDurable } from './files.ts'

export type { WireEvent }

export interface ResultEntry {
  type: 'result'
  instructionId: string
  attempt: number
  /** This entry stands in for a result the orchestrator refused: it is not replaced again. */
  standIn?: boolean
  body: {
    attempt: number
    status: 'succeeded' | 'failed' | 'cancelled'
    output?: unknown
    error?: { code: string; message: string; retryable?: boolean; data?: unknown }
    logs?: unknown[]
  }
}

export interface EventsEntry {
  type: 'events'
  events: WireEvent[]
}

export type OutboxEntry = ResultEntry | EventsEntry

export interface QuarantineRecord {
  reason: 'refused' | 'server-errors'
  /** The orchestrator's answer: status and message. */
  status: number | undefined
  error: string
  entry: OutboxEntry
}

const ENTRY = /^(\d{12})\.json$/
const JOURNAL = /^(\d{12})\.jsonl$/

/** The open journal of a watch's events: each event is on disk (page cache) as it arrives. */
export class EventJournal {
  private readonly fd: number
  readonly events: WireEvent[] = []

  constructor(
    private readonly outbox: Outbox,
    readonly id: string,
    private readonly file: string,
  ) {
    this.fd = openSync(file, 'a', 0o600)
  }

  append(e: WireEvent): void {
    const line = `${JSON.stringify(e)}\n`
    // writeSync: in the kernel before this returns, so a kill -9 right after cannot lose it.
    writeSync(this.fd, line)
    this.events.push(e)
    this.outbox.grow(this.id, Buffer.byteLength(line))
  }

  /** Turns the journal into an outbox entry (fsynced), ready to send. */
  seal(): void {
    closeSync(this.fd)
    this.outbox.sealJournal(this.id, this.file, this.events)
  }
}

export class Outbox {
  readonly dir: string
  readonly quarantineDir: string
  private seq: number
  /** Bytes on disk per entry id (journals included), for the size cap. */
  private readonly sizes = new Map<string, number>()
  private total = 0

  constructor(
    dataDir: string,
    private readonly maxBytes: number = AGENT_DEFAULTS.outboxMaxBytes,
  ) {
    this.dir = join(dataDir, 'outbox')
    this.quarantineDir = join(dataDir, 'outbox-quarantine')
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    // Leftover temporary files are writes that never completed: they never counted.
    for (const f of readdirSync(this.dir)) if (f.endsWith('.tmp')) rmSync(join(this.dir, f), { force: true })
    // Journals left by a crash hold events the agent received: seal them now.
    for (const f of readdirSync(this.dir)) {
      const m = JOURNAL.exec(f)
      if (m) this.sealJournal(m[1] as string, join(this.dir, f), readJournal(join(this.dir, f)))
    }
    for (const id of this.ids()) this.track(id, statSync(this.file(id)).size)
    const last = this.ids().at(-1)
    this.seq = last ? Number.parseInt(last, 10) + 1 : 1
  }

  /** Writes the entry durably (fsync of file and folder) and returns its id. */
  add(entry: OutboxEntry): string {
    const id = this.nextId()
    const text = JSON.stringify(entry)
    writeFileDurable(this.file(id), text)
    this.track(id, Buffer.byteLength(text))
    return id
  }

  /** Rewrites an entry in place (what is left of an events entry partly delivered). */
  replace(id: string, entry: OutboxEntry): void {
    const text = JSON.stringify(entry)
    writeFileDurable(this.file(id), text)
    this.track(id, Buffer.byteLength(text))
  }

  /** Opens a journal for streamed events; it takes the next id, so order is kept. */
  openJournal(): EventJournal {
    const id = this.nextId()
    const file = join(this.dir, `${id}.jsonl`)
    const j = new EventJournal(this, id, file)
    // The journal's name must survive a power cut too, not only its lines.
    fsyncDir(this.dir)
    this.track(id, 0)
    return j
  }

  /** @internal EventJournal's accounting of appended bytes. */
  grow(id: string, bytes: number): void {
    this.track(id, (this.sizes.get(id) ?? 0) + bytes)
  }

  /** @internal Seals a journal into an entry of the same id (or drops it when empty). */
  sealJournal(id: string, journal: string, events: WireEvent[]): void {
    this.track(id, 0)
    if (events.length > 0) {
      const text = JSON.stringify({ type: 'events', events } satisfies EventsEntry)
      writeFileDurable(this.file(id), text)
      this.track(id, Buffer.byteLength(text))
    } else this.sizes.delete(id)
    rmSync(journal, { force: true })
    fsyncDir(this.dir)
  }

  remove(id: string): void {
    this.total -= this.sizes.get(id) ?? 0
    this.sizes.delete(id)
    const file = this.file(id)
    if (!existsSync(file)) return
    rmSync(file, { force: true })
    fsyncDir(this.dir)
  }

  /** Past the size cap: new events are dropped (results are always kept). */
  get full(): boolean {
    return this.total >= this.maxBytes
  }

  get bytes(): number {
    return this.total
  }

  /**
   * Keeps a report aside for inspection; returns its file, or undefined when the quarantine
   * already holds its maximum (the report is then only logged).
   */
  quarantine(record: QuarantineRecord): string | undefined {
    mkdirSync(this.quarantineDir, { recursive: true, mode: 0o700 })
    if (this.quarantined >= AGENT_DEFAULTS.quarantineMaxFiles) return undefined
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${this.nextId()}.json`
    const file = join(this.quarantineDir, name)
    writeFileDurable(file, JSON.stringify({ quarantinedAt: new Date().toISOString(), ...record }, null, 2))
    return file
  }

  /** Reports kept in the quarantine folder (from this run and earlier ones). */
  get quarantined(): number {
    if (!existsSync(this.quarantineDir)) return 0
    return readdirSync(this.quarantineDir).filter((f) => f.endsWith('.json')).length
  }

  /** Entries in the order they were written (replayed on start). */
  list(): { id: string; entry: OutboxEntry }[] {
    const out: { id: string; entry: OutboxEntry }[] = []
    for (const id of this.ids()) {
      try {
        out.push({ id, entry: JSON.parse(readFileSync(this.file(id), 'utf8')) as OutboxEntry })
      } catch {
        // A file that does not parse was never completely written (the rename is atomic,
        // so this is a disk error): keep it aside for the operator rather than loop on it.
        renameSync(this.file(id), `${this.file(id)}.bad`)
        this.total -= this.sizes.get(id) ?? 0
        this.sizes.delete(id)
      }
    }
    return out
  }

  get size(): number {
    return this.ids().length
  }

  private nextId(): string {
    return String(this.seq++).padStart(12, '0')
  }

  private file(id: string): string {
    return join(this.dir, `${id}.json`)
  }

  private track(id: string, bytes: number): void {
    this.total += bytes - (this.sizes.get(id) ?? 0)
    this.sizes.set(id, bytes)
  }

  private ids(): string[] {
    const ids: string[] = []
    for (const f of readdirSync(this.dir)) {
      const m = ENTRY.exec(f)
      if (m) ids.push(m[1] as string)
    }
    return ids.sort()
  }
}

/** The events of a journal; a last line cut short by the crash is left out. */
function readJournal(file: string): WireEvent[] {
  const events: WireEvent[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue
    try {
      events.push(JSON.parse(line) as WireEvent)
    } catch {
      // Only the line being written at the crash can be partial.
    }
  }
  return events
}
