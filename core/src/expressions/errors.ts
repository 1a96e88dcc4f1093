import { errorTable } from '../errors.ts'

// The expression language's own errors: its part of the orchestrator's list
// (core/src/errors.ts). Every message names the expression and the column.

export const EXPRESSION_ERRORS = errorTable([
  'STAVILY_ERR_EXPRESSION_SYNTAX',
  'STAVILY_ERR_EXPRESSION_UNKNOWN_PATH',
  'STAVILY_ERR_EXPRESSION_TYPE',
  'STAVILY_ERR_EXPRESSION_LIMIT',
  'STAVILY_ERR_EXPRESSION_REFERENCE',
])

export type ExpressionErrorCode = keyof typeof EXPRESSION_ERRORS

export class ExpressionError extends Error {
  readonly code: ExpressionErrorCode
  readonly statusCode: number
  /** The expression source (without `${{ }}`). */
  readonly expression: string
  /** 1-based column in the expression where the problem is. */
  readonly column: number
  /** The problem alone, without the expression and column (for callers that add their own context). */
  readonly detail: string
  readonly data: Record<string, unknown> | undefined

  constructor(
    code: ExpressionErrorCode,
    expression: string,
    column: number,
    detail: string,
    data?: Record<string, unknown>,
  ) {
    // Without an expression (a limit on a whole value), the detail says it all.
    super(expression === '' ? detail : `${detail} (in expression "${clip(expression)}" at column ${column})`)
    this.name = 'ExpressionError'
    this.code = code
    this.statusCode = EXPRESSION_ERRORS[code]
    this.expression = expression
    this.column = column
    this.detail = detail
    this.data = data
  }
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text
}
