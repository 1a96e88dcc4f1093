import type { WireInstruction } from '@stavily/protocol'

// An instruction as the poll answer carries it (@stavily/protocol's WireInstruction), read
// liberally: fields added by later protocol versions (version, idempotencyKey, secrets,
// runId, stepId) get defaults when an older orchestrator leaves them out.

export interface Instruction {
  id: string
  attempt: number
  plugin: string
  operation: 'run' | 'send'
  input: unknown
  config: Record<string, unknown>
  timeoutMs: number
  leaseUntil: number
  version: string | undefined
  idempotencyKey: string
  secrets: Record<string, string>
  runId: string | null
  stepId: string | null
}

export function parseInstruction(raw: unknown): Instruction | undefined {
  const r = (raw ?? {}) as { [K in keyof WireInstruction]?: unknown }
  if (typeof r.id !== 'string' || typeof r.plugin !== 'string') return undefined
  const attempt = typeof r.attempt === 'number' ? r.attempt : 1
  const lease = typeof r.leaseUntil === 'string' ? Date.parse(r.leaseUntil) : Number.NaN
  return {
    id: r.id,
    attempt,
    plugin: r.plugin,
    operation: r.operation === 'send' ? 'send' : 'run',
    input: r.input ?? {},
    config: r.config && typeof r.config === 'object' ? (r.config as Record<string, unknown>) : {},
    timeoutMs: typeof r.timeoutMs === 'number' && r.timeoutMs > 0 ? r.timeoutMs : 30_000,
    leaseUntil: Number.isFinite(lease) ? lease : Date.now() + 30_000,
    version: typeof r.version === 'string' ? r.version : undefined,
    idempotencyKey: typeof r.idempotencyKey === 'string' && r.idempotencyKey ? r.idempotencyKey : r.id,
    secrets: r.secrets && typeof r.secrets === 'object' ? (r.secrets as Record<string, string>) : {},
    runId: typeof r.runId === 'string' ? r.runId : null,
    stepId: typeof r.stepId === 'string' ? r.stepId : null,
  }
}
