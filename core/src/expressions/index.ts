// The expression and template language for data flowing between workflow steps.
export type { Expression, Node } from './ast.ts'
export { EXPRESSION_ERRORS, ExpressionError, type ExpressionErrorCode } from './errors.ts'
export { type ExpressionContext, evaluate, pathText } from './evaluate.ts'
export { FUNCTION_NAMES } from './functions.ts'
export { FORBIDDEN_KEYS, parseExpression } from './parser.ts'
export { EXPRESSION_POLICY } from './policy.ts'
export { checkReferences, type ReferenceScope, STEP_FIELDS } from './references.ts'
export {
  type Condition,
  collectExpressions,
  evaluateCondition,
  isTemplate,
  parseCondition,
  parseTemplate,
  renderTemplate,
  renderValue,
  type Template,
  type TemplatePart,
} from './template.ts'
export { type JsonValue, truthy } from './values.ts'
