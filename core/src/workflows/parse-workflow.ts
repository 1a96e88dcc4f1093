import { checkSchema } from './check-schema.ts'
import { WorkflowError } from './errors.ts'
import { formatIssue, formatPath, type RawIssue, type WorkflowIssue } from './issues.ts'
import { checkJsonData } from './json-data.ts'
import { normalize } from './normalize.ts'
import { WORKFLOW_POLICY } from './policy.ts'
import { type WorkflowDocument, WorkflowDocumentSchema } from './schema.ts'
import { semanticChecks } from './semantic-checks.ts'
import { type ParsedSource, parseSource } from './source.ts'
import type { Workflow } from './types.ts'

// source text → YAML/JSON tree → schema check → semantic checks → normalized workflow.
// Every problem found is reported at once, each with its field path and line:column.

export type ParseWorkflowResult =
  | { ok: true; workflow: Workflow; document: WorkflowDocument }
  | { ok: false; issues: WorkflowIssue[] }

/** Parses and validates a workflow document given as YAML or JSON text. */
export function parseWorkflow(text: string): ParseWorkflowResult {
  const parsed = parseSource(text)
  if (!parsed.ok) return parsed
  return validate(parsed.source.value, parsed.source)
}

/** Validates an already parsed document (e.g. a JSON request body); issues have no line numbers. */
export function validateWorkflow(value: unknown): ParseWorkflowResult {
  return validate(value, undefined)
}

/** Like parseWorkflow, but throws STAVILY_ERR_WORKFLOW_INVALID with every issue in the message and in `data.issues`. */
export function loadWorkflow(text: string): Workflow {
  const result = parseWorkflow(text)
  if (result.ok) return result.workflow
  throw invalidWorkflow(result.issues)
}

export function invalidWorkflow(issues: WorkflowIssue[]): WorkflowError {
  const lines = issues.map((i) => `  - ${formatIssue(i)}`).join('\n')
  const n = issues.length
  return new WorkflowError(
    'STAVILY_ERR_WORKFLOW_INVALID',
    `workflow is invalid (${n} problem${n === 1 ? '' : 's'}):\n${lines}`,
    {
      issues,
    },
  )
}

function validate(value: unknown, source: ParsedSource | undefined): ParseWorkflowResult {
  const dataIssues = checkJsonData(value)
  if (dataIssues.length > 0) return { ok: false, issues: located(dataIssues, source) }
  const schemaIssues = checkSchema(WorkflowDocumentSchema, value)
  if (schemaIssues.length > 0) return { ok: false, issues: located(schemaIssues, source) }
  const doc = value as WorkflowDocument
  const semantic = semanticChecks(doc)
  if (semantic.length > 0) return { ok: false, issues: located(semantic, source) }
  return { ok: true, workflow: normalize(doc), document: doc }
}

function located(raw: RawIssue[], source: ParsedSource | undefined): WorkflowIssue[] {
  return raw.slice(0, WORKFLOW_POLICY.maxIssues).map((r) => {
    const pos = source?.locate(r.path, r.pointAt)
    return { path: formatPath(r.path), message: r.message, ...(pos ?? {}) }
  })
}
