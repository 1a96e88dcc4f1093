// Shapes shared inside core. Wire shapes live beside their routes (http/schemas/*).

export type AgentKind = 'sensor' | 'action'
export type Role = 'admin' | 'operator' | 'viewer'

export type Agent = {
  id: string
  orgId: string
  name: string
  kind: AgentKind
  pool: string
  labels: Record<string, string>
  version: string | null
  status: 'online' | 'lost' | 'revoked'
  drain: boolean
  lastSeenAt: Date
  createdAt: Date
  /** What the agent last reported loaded (null: never reported); read for views, not by authentication. */
  loadedPlugins?: { name: string; version: string }[] | null
  /** Set by authentication: the agent holds work an operator asked to cancel. */
  hasCancels?: boolean
}

export type ApiPrincipal = {
  tokenId: string
  orgId: string
  role: Role
  /** May create, list, rename and delete organizations (the bootstrap token). */
  instanceAdmin: boolean
}

export type InstructionStatus = 'queued' | 'leased' | 'running' | 'succeeded' | 'failed' | 'cancelled'

export type Instruction = {
  id: string
  orgId: string
  kind: AgentKind
  pool: string
  queue: string
  plugin: string
  operation: string
  input: unknown
  config: unknown
  timeoutMs: number
  status: InstructionStatus
  attempt: number
  maxAttempts: number
  agentId: string | null
  leaseUntil: Date | null
  cancelRequested: boolean
  error: unknown
  output: unknown
  createdAt: Date
  pickedAt: Date | null
  finishedAt: Date | null
  /** The plugin version to run (workflow steps: the pool's desired version at enqueue time). */
  pluginVersion: string | null
  /** The same for every attempt; the instruction id for instructions enqueued directly. */
  idempotencyKey: string | null
  runId: string | null
  stepId: string | null
  /** Higher is claimed first in its pool. */
  priority: number
}

export interface InstructionSpec {
  /** Chosen by the caller when it must record the id before enqueueing (a workflow step); default a new UUID. */
  id?: string
  kind: AgentKind
  pool: string
  plugin: string
  operation: string
  input?: unknown
  config?: unknown
  timeoutMs?: number
  retryLimit?: number
  /** Delay before the first retry, in seconds (pg-boss's granularity). */
  retryDelaySeconds?: number
  /** Doubles the delay on each further retry. */
  retryBackoff?: boolean
  pluginVersion?: string
  /** Default: the instruction id. */
  idempotencyKey?: string
  runId?: string
  stepId?: string
  /** Higher is claimed first in its pool (PRIORITY_MIN..PRIORITY_MAX, default 0); see queue/dispatcher.ts. */
  priority?: number
}

/** An instruction that reached a final status (or went back to the queue for a retry). */
export interface InstructionOutcome {
  id: string
  orgId: string
  runId: string | null
  stepId: string | null
  attempt: number
  status: 'succeeded' | 'failed' | 'cancelled'
  output: unknown
  error: { code: string; message: string } | null
}

export interface ResultReport {
  attempt: number
  status: 'succeeded' | 'failed' | 'cancelled'
  output?: unknown
  error?: { code: string; message: string; retryable?: boolean; data?: unknown }
  logs?: unknown[]
}

export type ResultAnswer = {
  instructionId: string
  attempt: number
  instructionStatus: InstructionStatus
  /** True when the failure will be retried (on any agent of the pool). */
  willRetry: boolean
}
