import type { ApiClient } from './api-client.ts'
import { CliError } from './cli-error.ts'
import { EXIT } from './exit-codes.ts'
import type { LogLine } from './log-lines.ts'

// One plugin call on a real agent of a pool, outside any workflow (POST /instructions),
// followed until it finishes: what `stavily plugin run` and `stavily plugin dev` do.

export interface PluginCall {
  name: string
  /** The exact version the pool must run (the orchestrator refuses the call otherwise). */
  version?: string
  pool: string
  kind: 'sensor' | 'action' | 'output'
  input?: unknown
  config?: unknown
  timeoutMs: number
}

export interface CallOutcome {
  id: string
  status: string
  attempt: number
  output: unknown
  error: { code?: string; message?: string } | null
  pluginVersion: string | null
  logs: LogLine[]
  ms: number
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])
/** Between two reads of the instruction: short, a developer waits on it. */
const POLL_MS = 150

const OPERATION = { sensor: 'check', action: 'run', output: 'send' } as const

export async function callPlugin(api: ApiClient, c: PluginCall): Promise<CallOutcome> {
  const started = Date.now()
  const { body } = await api.request<{ id: string }>('POST', '/instructions', {
    body: {
      kind: c.kind === 'sensor' ? 'sensor' : 'action',
      operation: OPERATION[c.kind],
      pool: c.pool,
      plugin: c.name,
      ...(c.version === undefined ? {} : { version: c.version }),
      ...(c.input === undefined ? {} : { input: c.input }),
      ...(c.config === undefined ? {} : { config: c.config }),
      timeoutMs: Math.max(1_000, c.timeoutMs),
      // One call: a developer wants to see the failure, not three of them.
      retryLimit: 0,
    },
  })
  const deadline = started + c.timeoutMs + 30_000
  for (;;) {
    const i = await api.get<Omit<CallOutcome, 'ms'>>(`/instructions/${body.id}`)
    if (FINISHED.has(i.status)) return { ...i, logs: i.logs ?? [], ms: Date.now() - started }
    if (Date.now() > deadline)
      throw new CliError(
        EXIT.failed,
        `instruction ${body.id} is still ${i.status} after ${Math.round((Date.now() - started) / 1000)} s`,
        i.status === 'queued'
          ? `no agent of pool ${c.pool} took it: is one running (stavily agent list)?`
          : 'see the agent log',
      )
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

/** `@acme/restart@1.2.0` → name and version; `@acme/restart` → name only. */
export function splitNameVersion(text: string): { name: string; version?: string } {
  const at = text.lastIndexOf('@')
  if (at <= 0) return { name: text }
  return { name: text.slice(0, at), version: text.slice(at + 1) }
}
