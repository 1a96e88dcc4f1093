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
  /** Set by authentication: the agent holds work an operator asked to cancel. */
  hasCancels?: boolean
}

export type ApiPrincipal = {
  tokenId: string
  orgId: string
  role: Role
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
}

export interface InstructionSpec {
  kind: AgentKind
  pool: string
  plugin: string
  operation: string
  input?: unknown
  config?: unknown
  timeoutMs?: number
  retryLimit?: number
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
