import { StavilyError } from '../errors.ts'

// The workflow module's errors; their codes and statuses are in the orchestrator's list
// (core/src/errors.ts), and the class is a StavilyError so the HTTP error handler maps it.

export const WORKFLOW_ERRORS = {
  /** The document does not parse or does not validate; `data.issues` lists every problem. */
  STAVILY_ERR_WORKFLOW_INVALID: 400,
  /** A run or step was asked to move to a status its current status does not allow. */
  STAVILY_ERR_ILLEGAL_TRANSITION: 409,
  /** No run (or step of a run) with this id in the organization. */
  STAVILY_ERR_RUN_NOT_FOUND: 404,
} as const

export type WorkflowErrorCode = keyof typeof WORKFLOW_ERRORS

export class WorkflowError extends StavilyError {
  declare readonly code: WorkflowErrorCode

  constructor(code: WorkflowErrorCode, message: string, data?: Record<string, unknown>) {
    super(code, message, data === undefined ? undefined : { data })
    this.name = 'WorkflowError'
  }
}
