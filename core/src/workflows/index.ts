// Workflow documents: schema, parsing with positions, validation, dry run, run/step states.
export { expressionContext, type RunInfo, type StepResult, type WorkflowEvent } from './context.ts'
export {
  type DryRunOptions,
  type DryRunResult,
  type DryRunStep,
  dryRun,
  type StepDecision,
} from './dry-run.ts'
export { parseDuration } from './duration.ts'
export * from './engine/index.ts'
export { WORKFLOW_ERRORS, WorkflowError, type WorkflowErrorCode } from './errors.ts'
export { stepIdempotencyKey } from './idempotency.ts'
export { formatIssue, type WorkflowIssue } from './issues.ts'
export {
  invalidWorkflow,
  loadWorkflow,
  type ParseWorkflowResult,
  parseWorkflow,
  validateWorkflow,
} from './parse-workflow.ts'
export { WORKFLOW_POLICY } from './policy.ts'
export { type WorkflowDocument, WorkflowDocumentSchema } from './schema.ts'
export { STEP_ROOTS, TRIGGER_ROOTS } from './scopes.ts'
export {
  allowedFrom,
  assertTransition,
  canTransition,
  isTerminal,
  type Machine,
  RUN_STATUSES,
  type RunStatus,
  STEP_STATUSES,
  type StepStatus,
} from './state-machine.ts'
export { WORKFLOWS_MIGRATION } from './store/migration.ts'
export {
  type DebounceCheck,
  debounceEvent,
  takeDebounced,
  throttleEvent,
  windowKeyText,
} from './store/windows.ts'
export {
  type ApplyResult,
  applyWorkflow,
  enabledWorkflows,
  getStoredWorkflow,
  getWorkflowVersion,
  listWorkflowSummaries,
  listWorkflowVersions,
  type StoredWorkflow,
  setWorkflowEnabled,
  type WorkflowSummary,
} from './store/workflow-store.ts'
export type * from './types.ts'
export * from './webhook/index.ts'
