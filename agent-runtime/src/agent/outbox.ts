// The durable outbox: every result and event batch is a file in <dataDir>/outbox, written
// and fsynced before the work counts as done, deleted only after the orchestrator answered.
// Files are named by a sequence so a replay after a crash sends them in the original order.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fsyncDir, writeFileDurable } from './files.ts'

export interface ResultEntry {
  type: 'result'
  instructionId: string
  attempt: number
  body: {
    attempt: number
    status: 'succeeded' | 'failed' | 'cancelled'
    output?: unknown
    error?: { code: string; message: string; retryable?: boolean; data?: unknown }
    logs?: unknown[]
  }
}

export interface WireEvent {
  source: string
  type: string
  data?: unknown
  dedupeKey?: string
  occurredAt?: string
  sensorId?: string
}

export interface EventsEntry {
  type: 'events'
  events: WireEvent[]
}

export type OutboxEntry = ResultEntry | EventsEntry

export class Outbox {
  private readonly dir: string
  private seq: number

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'outbox')
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    // Leftover temporary files are writes that never completed: they never counted.
    for (const f of readdirSync(this.dir)) if (f.endsWith('.tmp')) rmSync(join(this.dir, f), { force: true })
    const last = this.ids().at(-1)
    this.seq = last ? Number.parseInt(last, 10) + 1 : 1
  }

  /** Writes the entry durably (fsync of file and folder) and returns its id. */
  add(entry: OutboxEntry): string {
    const id = String(this.seq++).padStart(12, '0')
    writeFileDurable(join(this.dir, `${id}.json`), JSON.stringify(entry))
    return id
  }

  remove(id: string): void {
    const file = join(this.dir, `${id}.json`)
    if (!existsSync(file)) return
    rmSync(file, { force: true })
    fsyncDir(this.dir)
  }

  /** Entries in the order they were written (replayed on start). */
  list(): { id: string; entry: OutboxEntry }[] {
    const out: { id: string; entry: OutboxEntry }[] = []
    for (const id of this.ids()) {
      try {
        out.push({ id, entry: JSON.parse(readFileSync(join(this.dir, `${id}.json`), 'utf8')) as OutboxEntry })
      } catch {
        // A file that does not parse was never completely written (the rename is atomic,
        // so this is a disk error): keep it aside for the operator rather than loop on it.
        renameSync(join(this.dir, `${id}.json`), join(this.dir, `${id}.json.bad`))
      }
    }
    return out
  }

  get size(): number {
    return this.ids().length
  }

  private ids(): string[] {
    return readdirSync(this.dir)
      .filter((f) => /^\d{12}\.json$/.test(f))
      .map((f) => f.slice(0, 12))
      .sort()
  }
}
