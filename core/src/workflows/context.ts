import type { ExpressionContext } from '../expressions/index.ts'

// The names expressions see, built the same way by the engine and by the dry run, so a dry
// run shows exactly what a real run would compute.

/** An event as the engine receives it from a sensor, a webhook or a schedule. */
export interface WorkflowEvent {
  source?: string
  type: string
  data: unknown
  dedupeKey?: string | null
  occurredAt?: string
}

/** What a finished (or skipped) step exposes to later steps as `steps.<id>`. */
export interface StepResult {
  status: string
  output: unknown
  error: { code: string; message: string } | null
}

export interface RunInfo {
  id: string
  workflow: string
  /** 'running' while actions run; the actions' outcome ('succeeded' | 'failed') while outputs run. */
  status: string
}

export function expressionContext(
  event: WorkflowEvent,
  run?: RunInfo,
  steps?: Readonly<Record<string, StepResult>>,
): ExpressionContext {
  const envelope = {
    source: event.source ?? null,
    type: event.type,
    dedupeKey: event.dedupeKey ?? null,
    occurredAt: event.occurredAt ?? null,
    data: event.data ?? null,
  }
  const ctx: Record<string, unknown> = { trigger: event.data ?? null, event: envelope }
  if (run) ctx.run = { ...run }
  if (steps) ctx.steps = { ...steps }
  return ctx
}
