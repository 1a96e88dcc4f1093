// The workflow answers the pages read (GET /workflows, /workflows/:idOrName, versions, dry run).

export interface WorkflowSummary {
  id: string
  name: string
  enabled: boolean
  version: number
  triggerKind: string
  createdAt: string
  updatedAt: string
  hookPath?: string
}

export interface WorkflowDetail extends WorkflowSummary {
  shownVersion: number
  document: string
  definition: unknown
  createdBy: string | null
  versionCreatedAt: string
}

export interface WorkflowVersion {
  version: number
  createdBy: string | null
  createdAt: string
}

export interface DryRunStep {
  id: string
  kind: string
  plugin: string
  version: string
  pool: string
  decision: string
  reason: string | null
  input: unknown
  assumed: unknown
}

export interface DryRunResult {
  triggered: boolean
  reason: string | null
  windowKey: unknown
  actions: DryRunStep[]
  outputs: DryRunStep[]
  outcome: string | null
  outcomeAssumed: boolean
}
