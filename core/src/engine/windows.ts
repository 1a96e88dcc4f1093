import type { SqlClient } from '../db/sql-client.ts'
import { evaluateCondition, parseCondition, renderTemplate } from '../expressions/index.ts'
import {
  debounceEvent,
  expressionContext,
  takeDebounced,
  throttleEvent,
  type Workflow,
  type WorkflowEvent,
  windowKeyText,
} from '../workflows/index.ts'
import type { EngineCore, Head } from './core.ts'
import type { RunRecord } from './run-records.ts'
import type { RunLifecycle } from './runs.ts'
import { type Actor, SYSTEM, type WebhookAnswer } from './types.ts'

// Between an event and its run: the trigger's filter, then the debounce window (one run
// after the events stop, with the last one) or the throttle window (at most one run per
// window, with the first), then the run.

export const DEBOUNCE_QUEUE = 'stavily.engine.debounce'

export class Windows {
  readonly #c: EngineCore
  readonly #runs: RunLifecycle

  constructor(core: EngineCore, runs: RunLifecycle) {
    this.#c = core
    this.#runs = runs
  }

  // The filter, then the debounce or throttle window, then a run.
  // `claim` (a webhook delivery's replay record) runs in the transaction that records the
  // outcome, whichever it is: filtered, a debounce window, a throttle window, or the run.
  async consider(
    head: Head,
    workflow: Workflow,
    event: WorkflowEvent,
    actor: Actor,
    dedupeKey: string | null = null,
    claim?: (tx: SqlClient) => Promise<void>,
  ): Promise<WebhookAnswer> {
    const filtered = async (): Promise<WebhookAnswer> => {
      if (claim) await this.#c.d.db.sql.transaction(claim)
      return { accepted: true, runId: null, reason: 'filtered' }
    }
    if (!passes(workflow, event)) return filtered()
    const window = workflow.debounce ?? workflow.throttle
    let key = ''
    if (window?.key) {
      try {
        key = windowKeyText(renderTemplate(window.key, expressionContext(event)))
      } catch {
        return filtered()
      }
    }
    if (workflow.debounce) {
      const debounce = workflow.debounce
      const w = await this.#c.d.db.sql.transaction(async (tx) => {
        await claim?.(tx)
        return debounceEvent(tx, { workflowId: head.id, key, windowMs: debounce.windowMs, event })
      })
      if (w.opened) await this.#scheduleDebounce(head.orgId, head.id, key, new Date(w.closesAt))
      return { accepted: true, runId: null, reason: 'debounced' }
    }
    // The throttle window is counted in the run's transaction: an event that fails to start
    // its run does not use up the window.
    let throttled = false
    const r = await this.#runs.create(
      head,
      workflow,
      async (tx) => {
        await claim?.(tx)
        if (workflow.throttle) {
          const t = await throttleEvent(tx, {
            workflowId: head.id,
            key,
            windowMs: workflow.throttle.windowMs,
          })
          if (!t.start) {
            throttled = true
            return null
          }
        }
        return event
      },
      dedupeKey,
      actor,
    )
    if (!r) return { accepted: true, runId: null, reason: throttled ? 'throttled' : 'filtered' }
    return { accepted: true, runId: r.id }
  }

  async #scheduleDebounce(orgId: string, workflowId: string, key: string, at: Date): Promise<void> {
    await this.#c.d.boss.sendAfter(DEBOUNCE_QUEUE, { orgId, workflowId, key }, {}, at)
  }

  /** A debounce window's check: starts its run when it has been quiet for the whole window. */
  async checkDebounce(orgId: string, workflowId: string, key: string): Promise<RunRecord | null> {
    const head = await this.#c.head(workflowId)
    if (!head?.enabled) {
      // A disabled workflow starts nothing: a due window is closed without a run.
      await takeDebounced(this.#c.d.db.sql, { workflowId, key })
      return null
    }
    const workflow = await this.#c.definition(this.#c.d.db.sql, head.id, head.version)
    let closesAt: string | null = null
    // The window is taken (deleted) in the transaction that creates its run: a crash leaves
    // both or neither, so a quiet window always starts exactly one run.
    const r = await this.#runs.create(
      head,
      workflow,
      async (tx) => {
        const check = await takeDebounced(tx, { workflowId, key })
        if (check.due) return check.event
        closesAt = check.closesAt
        return null
      },
      null,
      SYSTEM,
    )
    if (closesAt) await this.#scheduleDebounce(orgId, workflowId, key, new Date(closesAt))
    return r
  }
}

/** Whether an event passes the trigger's filter; a filter that cannot be evaluated lets nothing through. */
export function passes(workflow: Workflow, event: WorkflowEvent): boolean {
  const filter = 'filter' in workflow.trigger ? workflow.trigger.filter : null
  if (filter === null) return true
  try {
    return evaluateCondition(parseCondition(filter), expressionContext(event))
  } catch {
    return false
  }
}
