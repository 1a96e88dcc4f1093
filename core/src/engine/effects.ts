import type { AuditEntryInput } from '../audit/index.ts'
import type { Statement } from '../db/sql-client.ts'
import type { StreamEvent } from '../services/live-stream.ts'

// What an engine transaction leaves to do once it committed: wake the pools it queued work
// for, tell the live stream, and let the concurrency limit start waiting runs. Collected
// while the transaction runs, acted on only after the commit (never for a rolled-back one).
export class Effects {
  readonly wake = new Set<string>()
  readonly stream: { orgId: string; event: StreamEvent }[] = []
  readonly audit: AuditEntryInput[] = []
  /** Independent writes of the transaction, sent together at its end (engine/batch.ts). */
  readonly statements: Statement[] = []
  /** Workflows (org, id) a run of which finished and that have a concurrency limit. */
  readonly freed = new Map<string, string>()

  record(
    orgId: string,
    action: string,
    runId: string,
    data: Record<string, unknown>,
    actor?: AuditEntryInput['actor'] & { ip?: string | null },
    /** Fields for the live stream only (a step's output: the audit log keeps no outputs). */
    streamOnly: Record<string, unknown> = {},
  ): void {
    this.audit.push({
      org: orgId,
      actor: { type: actor?.type ?? 'system', id: actor?.id ?? null },
      action,
      target: { type: 'run', id: runId },
      data,
      ip: actor?.ip ?? null,
    })
    const [kind, status] = action.split('.') as ['run' | 'step', string]
    this.stream.push({ orgId, event: { type: kind, data: { runId, status, ...data, ...streamOnly } } })
  }
}
