// The agent's check of a report before it enters the outbox: the schemas the orchestrator's
// routes validate with (agent-reports.ts), compiled the same way (TypeBox), plus the wire
// rules (wire-value.ts). A problem names the field, as the server's 400 would.
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { ResultBody, WireEvent } from './agent-reports.ts'
import { findWireProblem } from './wire-value.ts'

export type ReportProblem = { path: string; message: string }

type Checker = ReturnType<typeof Compile>
const compiled = new Map<TSchema, Checker>()

function checker(schema: TSchema): Checker {
  let c = compiled.get(schema)
  if (!c) {
    c = Compile(schema)
    compiled.set(schema, c)
  }
  return c
}

function dotted(root: string, instancePath: string): string {
  const parts = instancePath
    .split('/')
    .filter(Boolean)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  let path = root
  for (const p of parts) path = /^\d+$/.test(p) ? `${path}[${p}]` : path ? `${path}.${p}` : p
  return path
}

/** The first problem of `value` against `schema` and the wire rules, or null. */
export function schemaProblem(schema: TSchema, value: unknown, root: string): ReportProblem | null {
  const wire = findWireProblem(value, root)
  if (wire) return { path: wire.path, message: wire.message }
  const c = checker(schema)
  if (c.Check(value)) return null
  const errors = [...c.Errors(value)] as {
    keyword: string
    instancePath: string
    message: string
    params: Record<string, unknown>
  }[]
  const e = errors.find((x) => x.keyword !== 'boolean') ?? errors[0]
  if (!e) return { path: root, message: 'invalid' }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params.additionalProperties as string[] | undefined)?.[0] ?? '?'
    return { path: dotted(root, `${e.instancePath}/${extra}`), message: 'unknown field' }
  }
  if (e.keyword === 'required') {
    const missing = (e.params.requiredProperties as string[] | undefined)?.[0] ?? '?'
    return { path: dotted(root, `${e.instancePath}/${missing}`), message: 'required' }
  }
  return { path: dotted(root, e.instancePath), message: e.message }
}

/** One event of POST /events, checked as the orchestrator checks it. */
export function eventProblem(event: unknown, root = 'event'): ReportProblem | null {
  return schemaProblem(WireEvent, event, root)
}

/** The body of POST /instructions/:id/result, checked as the orchestrator checks it. */
export function resultProblem(body: unknown, root = 'result'): ReportProblem | null {
  return schemaProblem(ResultBody, body, root)
}
