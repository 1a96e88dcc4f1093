import { errorTable, StavilyError } from '../errors.ts'

// The workflow module's errors: its part of the orchestrator's list (core/src/errors.ts),
// and the class is a StavilyError so the HTTP error handler maps it.

export const WORKFLOW_ERRORS = errorTable([
  'STAVILY_ERR_WORKFLOW_INVALID',
  'STAVILY_ERR_ILLEGAL_TRANSITION',
  'STAVILY_ERR_RUN_NOT_FOUND',
])

export type WorkflowErrorCode = keyof typeof WORKFLOW_ERRORS

export class WorkflowError extends StavilyError {
  declare readonly code: WorkflowErrorCode

  constructor(code: WorkflowErrorCode, message: string, data?: Record<string, unknown>) {
    super(code, message, data === undefined ? undefined : { data })
    this.name = 'WorkflowError'
  }
}
