// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow template syntax, not a JS template literal
import parser from 'cron-parser'
import semver from 'semver'
import {
  checkReferences,
  collectExpressions,
  ExpressionError,
  isTemplate,
  parseCondition,
  parseTemplate,
  type ReferenceScope,
} from '../expressions/index.ts'
import { isPlainObject } from '../expressions/values.ts'
import { parseDuration } from './duration.ts'
import type { PathSegment, RawIssue } from './issues.ts'
import { WORKFLOW_POLICY } from './policy.ts'
import { RESPOND_POLICY, type WorkflowDocument } from './schema.ts'
import { STEP_ROOTS, TRIGGER_ROOTS } from './scopes.ts'

// Rules the schema cannot say: one trigger kind, unique step ids, valid version ranges,
// cron and time zones, duration bounds, and every expression parsed and its references
// checked against the steps that run before it. Runs only on a schema-valid document.

type StepDoc = NonNullable<WorkflowDocument['actions']>[number]

export function semanticChecks(doc: WorkflowDocument): RawIssue[] {
  const out: RawIssue[] = []
  const add = (path: PathSegment[], message: string) => out.push({ path, message })

  checkTrigger(doc, add)

  const actions = doc.actions ?? []
  const outputs = doc.outputs ?? []
  if (actions.length === 0 && outputs.length === 0) {
    out.push({
      path: ['actions'],
      message: 'a workflow needs at least one action or output',
      pointAt: 'parent',
    })
  }
  const seen = new Map<string, string>()
  const allSteps = [...actions.map((a) => a.id), ...outputs.map((o) => o.id)]
  const sections: ['actions' | 'outputs', StepDoc[]][] = [
    ['actions', actions],
    ['outputs', outputs],
  ]
  for (const [section, steps] of sections) {
    for (const [i, step] of steps.entries()) {
      const path: PathSegment[] = [section, i]
      const first = seen.get(step.id)
      if (first)
        add(
          [...path, 'id'],
          `duplicate step id "${step.id}" (already used by ${first}); step ids must be unique`,
        )
      else seen.set(step.id, `${section}[${i}]`)
      // Actions run in order and see the actions before them; outputs run after all actions.
      const earlierSteps =
        section === 'actions' ? actions.slice(0, i).map((a) => a.id) : actions.map((a) => a.id)
      checkStep(step, path, { roots: STEP_ROOTS, earlierSteps, allSteps }, add)
    }
  }

  if (doc.debounce && doc.throttle) {
    add(['throttle'], 'use either debounce or throttle, not both')
  }
  for (const field of ['debounce', 'throttle'] as const) {
    const w = doc[field]
    if (!w) continue
    checkDurationBound([field, 'window'], w.window, 1, WORKFLOW_POLICY.maxWindowMs, add)
    if (w.key !== undefined)
      checkTemplate([field, 'key'], w.key, { roots: TRIGGER_ROOTS, earlierSteps: [], allSteps }, add)
  }
  return out
}

type Add = (path: PathSegment[], message: string) => void

function checkTrigger(doc: WorkflowDocument, add: Add): void {
  const kinds = (['sensor', 'webhook', 'schedule'] as const).filter((k) => doc.trigger[k] !== undefined)
  if (kinds.length !== 1) {
    const got = kinds.length === 0 ? 'none' : kinds.join(' and ')
    add(['trigger'], `expected exactly one of sensor, webhook or schedule, got ${got}`)
  }
  const scope: ReferenceScope = { roots: TRIGGER_ROOTS, earlierSteps: [], allSteps: [] }
  const { sensor, webhook, schedule } = doc.trigger
  if (sensor) {
    checkRange(['trigger', 'sensor', 'version'], sensor.version, add)
    checkStatic(['trigger', 'sensor', 'config'], sensor.config, add)
    if (sensor.watch === true && sensor.interval !== undefined) {
      add(
        ['trigger', 'sensor', 'interval'],
        'a watching sensor has no interval: remove interval or set watch: false',
      )
    }
    if (sensor.interval !== undefined) {
      checkDurationBound(
        ['trigger', 'sensor', 'interval'],
        sensor.interval,
        WORKFLOW_POLICY.minSensorIntervalMs,
        WORKFLOW_POLICY.maxWindowMs,
        add,
      )
    }
    if (sensor.filter !== undefined)
      checkCondition(['trigger', 'sensor', 'filter'], sensor.filter, scope, add)
  }
  if (webhook?.filter !== undefined)
    checkCondition(['trigger', 'webhook', 'filter'], webhook.filter, scope, add)
  if (webhook?.respond) checkRespond(doc, webhook.respond, add)
  if (schedule) checkSchedule(schedule.cron, schedule.timezone, add)
}

// The response is rendered once the run finished: it sees every step, and `run.status` is
// the run's final status.
function checkRespond(
  doc: WorkflowDocument,
  respond: NonNullable<NonNullable<WorkflowDocument['trigger']['webhook']>['respond']>,
  add: Add,
): void {
  const path: PathSegment[] = ['trigger', 'webhook', 'respond']
  checkDurationBound([...path, 'wait'], respond.wait, 1, RESPOND_POLICY.maxWaitMs, add)
  const allSteps = [...(doc.actions ?? []), ...(doc.outputs ?? [])].map((s) => s.id)
  const scope: ReferenceScope = { roots: STEP_ROOTS, earlierSteps: allSteps, allSteps }
  if (typeof respond.status === 'string') {
    const status = respond.status
    if (!isTemplate(status) && !/^\d+$/.test(status.trim()))
      add(
        [...path, 'status'],
        `expected an HTTP status from ${RESPOND_POLICY.minStatus} to ${RESPOND_POLICY.maxStatus} or a template such as "\${{ steps.check.output.code }}", got ${JSON.stringify(status)}`,
      )
    else if (!isTemplate(status)) {
      const n = Number(status.trim())
      if (n < RESPOND_POLICY.minStatus || n > RESPOND_POLICY.maxStatus)
        add(
          [...path, 'status'],
          `expected an HTTP status from ${RESPOND_POLICY.minStatus} to ${RESPOND_POLICY.maxStatus}, got ${n}`,
        )
    } else checkTemplate([...path, 'status'], status, scope, add)
  }
  if (respond.body !== undefined) checkTemplates([...path, 'body'], respond.body, scope, add)
}

function checkSchedule(cron: string, timezone: string | undefined, add: Add): void {
  let tzOk = true
  if (timezone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: timezone })
    } catch {
      tzOk = false
      add(
        ['trigger', 'schedule', 'timezone'],
        `expected an IANA time zone such as "Europe/Paris", got ${JSON.stringify(timezone)}`,
      )
    }
  }
  // pg-boss checks schedules once a minute, so only the five-field (minute) form is accepted;
  // it parses them with cron-parser, which is used here too so both agree on what is valid.
  const fields = cron.trim().split(/\s+/)
  if (fields.length !== 5) {
    add(
      ['trigger', 'schedule', 'cron'],
      `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length} in ${JSON.stringify(cron)}`,
    )
    return
  }
  try {
    parser.parseExpression(cron, tzOk && timezone ? { tz: timezone } : {})
  } catch (err) {
    add(
      ['trigger', 'schedule', 'cron'],
      `not a valid cron expression ${JSON.stringify(cron)}: ${(err as Error).message}`,
    )
  }
}

function checkStep(step: StepDoc, path: PathSegment[], scope: ReferenceScope, add: Add): void {
  checkRange([...path, 'version'], step.version, add)
  checkStatic([...path, 'config'], step.config, add)
  if (step.timeout !== undefined)
    checkDurationBound([...path, 'timeout'], step.timeout, 1, WORKFLOW_POLICY.maxTimeoutMs, add)
  if (step.retry?.delay !== undefined) {
    checkDurationBound([...path, 'retry', 'delay'], step.retry.delay, 0, WORKFLOW_POLICY.maxTimeoutMs, add)
  }
  if (step.when !== undefined) checkCondition([...path, 'when'], step.when, scope, add)
  if (step.input !== undefined) checkTemplates([...path, 'input'], step.input, scope, add)
}

/** Every template in a value (a step's input, a response body) parsed and its references checked. */
function checkTemplates(path: PathSegment[], value: unknown, scope: ReferenceScope, add: Add): void {
  let found: ReturnType<typeof collectExpressions>
  try {
    found = collectExpressions(value)
  } catch (err) {
    // A template that does not parse: find which field holds it for the message.
    reportTemplates(path, value, scope, add)
    if (!(err instanceof ExpressionError)) throw err
    return
  }
  for (const f of found) {
    for (const e of checkReferences(f.expression, scope)) add([...path, ...splitPath(f.path)], e.message)
  }
}

// Walks the input and checks each template string on its own, so each syntax error is
// reported at its own field.
function reportTemplates(
  path: PathSegment[],
  value: unknown,
  scope: ReferenceScope,
  add: Add,
  depth = 0,
): void {
  if (depth > 32) return
  if (typeof value === 'string') checkTemplate(path, value, scope, add)
  else if (Array.isArray(value))
    for (const [i, v] of value.entries()) reportTemplates([...path, i], v, scope, add, depth + 1)
  else if (isPlainObject(value))
    for (const [k, v] of Object.entries(value)) reportTemplates([...path, k], v, scope, add, depth + 1)
}

function checkTemplate(path: PathSegment[], text: string, scope: ReferenceScope, add: Add): void {
  try {
    for (const part of parseTemplate(text).parts) {
      if (typeof part === 'string') continue
      for (const e of checkReferences(part.expression, scope)) add(path, e.message)
    }
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err
    add(path, err.message)
  }
}

function checkCondition(path: PathSegment[], value: boolean | string, scope: ReferenceScope, add: Add): void {
  try {
    const c = parseCondition(value)
    if (typeof c !== 'boolean') for (const e of checkReferences(c, scope)) add(path, e.message)
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err
    add(path, err.message)
  }
}

function checkRange(path: PathSegment[], range: string, add: Add): void {
  if (semver.validRange(range) === null)
    add(path, `expected a semver range such as "^1.2.0" or "1.x", got ${JSON.stringify(range)}`)
}

// Configuration is fixed per plugin instance (the agent loads it once); values that change
// per event belong in the input, which is rendered for every run.
function checkStatic(path: PathSegment[], config: Record<string, unknown> | undefined, add: Add): void {
  if (config === undefined) return
  try {
    const found = collectExpressions(config)
    if (found.length > 0) {
      add(
        [...path, ...splitPath(found[0]!.path)],
        'config is not templated: move values that use ${{ }} to input',
      )
    }
  } catch {
    add(path, 'config is not templated: move values that use ${{ }} to input')
  }
}

function checkDurationBound(path: PathSegment[], text: string, minMs: number, maxMs: number, add: Add): void {
  const ms = parseDuration(text)
  if (ms === undefined) return // the schema already reported it
  if (ms < minMs || ms > maxMs)
    add(path, `expected a duration from ${minMs} ms to ${maxMs} ms, got ${JSON.stringify(text)} (${ms} ms)`)
}

/** Splits a rendered path (`a.b[0]["x y"]`) back into segments. */
function splitPath(path: string): PathSegment[] {
  const out: PathSegment[] = []
  const re = /([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1])
    else if (m[2] !== undefined) out.push(Number(m[2]))
    else out.push(JSON.parse(m[3]!) as string)
  }
  return out
}
