import { run as query } from '../../../db/sql-client.ts'
import type { WebhookAnswer } from '../../../engine/types.ts'
import type { Services } from '../../../services/context.ts'
import { expressionContext, type StepResult } from '../../../workflows/context.ts'
import { renderResponse } from '../../../workflows/respond.ts'
import { RESPOND_POLICY } from '../../../workflows/schema.ts'
import type { WebhookRespond } from '../../../workflows/types.ts'

// trigger.webhook.respond: the hook request waits up to `wait` for the run it started (or,
// for a deduplicated event, the run that event already started) and answers the rendered
// status and body. Waiting is one live-stream subscription per organization on this instance
// (FleetState pub/sub, so a run finished on another instance is seen too) plus a re-read
// every POLL_MS, as the stream is best effort. At most RESPOND_POLICY.maxWaiting requests
// wait at once per instance; the others, and runs that do not finish in time, get the 202.

const POLL_MS = 1_000
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out'])

export interface HookReply {
  code: number
  body: unknown
  /** True when the body is the workflow's rendered response (not the route's 202). */
  rendered: boolean
}

/** The run URL a caller that got 202 reads the result from (an API token with runs:read). */
export const runUrl = (runId: string) => `/api/v1/runs/${runId}`

export class HookResponder {
  readonly #s: Services
  #waiting = 0

  constructor(services: Services) {
    this.#s = services
  }

  /** Requests waiting for their run on this instance now. */
  get waiting(): number {
    return this.#waiting
  }

  async reply(answer: WebhookAnswer): Promise<HookReply> {
    const accepted: HookReply = {
      code: 202,
      rendered: false,
      body: answer.runId && !answer.runIds ? { ...answer, runUrl: runUrl(answer.runId) } : answer,
    }
    // Only a delivery that started (or found) exactly one run can answer with its result.
    if (!answer.runId || answer.runIds) return accepted
    const runId = answer.runId
    const { rows } = await query<{ orgId: string; respond: WebhookRespond | null }>(this.#s.db.sql, {
      text: `SELECT r.org_id AS "orgId", v.definition -> 'trigger' -> 'respond' AS respond
        FROM runs r JOIN workflow_versions v ON v.workflow_id = r.workflow_id AND v.version = r.workflow_version
        WHERE r.id = $1`,
      values: [runId],
    })
    const row = rows[0]
    if (!row?.respond) return accepted
    if (this.#waiting >= RESPOND_POLICY.maxWaiting) return accepted
    this.#waiting++
    try {
      const done = await this.#finished(
        row.orgId,
        runId,
        Math.min(row.respond.waitMs, RESPOND_POLICY.maxWaitMs),
      )
      if (!done) return accepted
      const steps: Record<string, StepResult> = {}
      for (const s of done.steps) steps[s.stepId] = { status: s.status, output: s.output, error: s.error }
      const ctx = expressionContext(
        done.event,
        { id: done.id, workflow: done.workflowName, status: done.status },
        steps,
      )
      const r = renderResponse(row.respond, ctx, { id: done.id, status: done.status })
      return { code: r.status, body: r.body, rendered: true }
    } finally {
      this.#waiting--
    }
  }

  // Resolves to the finished run, or undefined when `waitMs` passed first.
  async #finished(orgId: string, runId: string, waitMs: number) {
    const read = async () => {
      const r = await this.#s.runs.get(orgId, runId)
      return TERMINAL.has(r.status) ? r : undefined
    }
    let poke: () => void = () => {}
    const unsubscribe = this.#s.stream.subscribe(orgId, (e) => {
      const d = e.data as { runId?: unknown; status?: unknown }
      if (e.type === 'run' && d.runId === runId && typeof d.status === 'string' && TERMINAL.has(d.status))
        poke()
    })
    const deadline = Date.now() + waitMs
    try {
      for (;;) {
        const r = await read()
        if (r) return r
        const left = deadline - Date.now()
        if (left <= 0) return undefined
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(POLL_MS, left))
          poke = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
    } finally {
      unsubscribe()
    }
  }
}
