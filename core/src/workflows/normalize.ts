import { parseDuration } from './duration.ts'
import { WORKFLOW_POLICY } from './policy.ts'
import type { WorkflowDocument } from './schema.ts'
import type { OutputStep, RetryPolicy, StepBase, Trigger, Window, Workflow } from './types.ts'

// Applies defaults and converts durations. Runs only on a document that passed every check,
// so the conversions here cannot fail.

type StepDoc = NonNullable<WorkflowDocument['actions']>[number]
type OutputDoc = NonNullable<WorkflowDocument['outputs']>[number]

const ms = (text: string) => parseDuration(text)!

export function normalize(doc: WorkflowDocument): Workflow {
  return {
    name: doc.name,
    description: doc.description ?? null,
    enabled: doc.enabled ?? true,
    trigger: trigger(doc.trigger),
    actions: (doc.actions ?? []).map(step),
    outputs: (doc.outputs ?? []).map((o: OutputDoc): OutputStep => ({ ...step(o), on: o.on ?? 'success' })),
    concurrency: doc.concurrency ?? null,
    debounce: doc.debounce ? window(doc.debounce) : null,
    throttle: doc.throttle ? window(doc.throttle) : null,
  }
}

function trigger(t: WorkflowDocument['trigger']): Trigger {
  if (t.sensor) {
    const watch = t.sensor.watch ?? false
    return {
      kind: 'sensor',
      plugin: t.sensor.plugin,
      version: t.sensor.version,
      config: t.sensor.config ?? {},
      pool: t.sensor.pool ?? WORKFLOW_POLICY.defaultPool,
      intervalMs: watch
        ? null
        : t.sensor.interval
          ? ms(t.sensor.interval)
          : WORKFLOW_POLICY.defaultSensorIntervalMs,
      watch,
      filter: t.sensor.filter ?? null,
    }
  }
  if (t.webhook)
    return {
      kind: 'webhook',
      secret: t.webhook.secret,
      provider: t.webhook.provider ?? 'stavily',
      filter: t.webhook.filter ?? null,
      // Only when set: definitions without it stay as they were stored before it existed.
      ...(t.webhook.respond
        ? {
            respond: {
              waitMs: ms(t.webhook.respond.wait),
              status: t.webhook.respond.status ?? 200,
              body: t.webhook.respond.body ?? null,
            },
          }
        : {}),
    }
  const s = t.schedule!
  return { kind: 'schedule', cron: s.cron.trim(), timezone: s.timezone ?? 'UTC' }
}

function step(s: StepDoc): StepBase {
  const retry: RetryPolicy = {
    limit: s.retry?.limit ?? WORKFLOW_POLICY.defaultRetryLimit,
    backoff: s.retry?.backoff ?? 'exponential',
    delayMs: s.retry?.delay ? ms(s.retry.delay) : WORKFLOW_POLICY.defaultRetryDelayMs,
  }
  return {
    id: s.id,
    name: s.name ?? null,
    plugin: s.plugin,
    version: s.version,
    config: s.config ?? {},
    input: s.input ?? {},
    pool: s.pool ?? WORKFLOW_POLICY.defaultPool,
    timeoutMs: s.timeout ? ms(s.timeout) : WORKFLOW_POLICY.defaultTimeoutMs,
    retry,
    when: s.when ?? null,
  }
}

function window(w: { window: string; key?: string }): Window {
  return { windowMs: ms(w.window), key: w.key ?? null }
}
