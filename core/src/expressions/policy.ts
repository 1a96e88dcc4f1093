// Limits of the expression language, each with the reason for its value. Expressions come
// from operators' workflow documents and values from events anyone with a webhook URL can
// send, so every dimension is bounded.

export const EXPRESSION_POLICY = {
  /** Longest expression between `${{` and `}}`: conditions and paths are short; longer text is a program. */
  maxExpressionLength: 1_024,
  /** Deepest AST: bounds the evaluator's recursion (stack) whatever the input. */
  maxDepth: 32,
  /** Most `${{ }}` in one template string. */
  maxExpressionsPerTemplate: 64,
  /** Longest string a template may produce: inputs travel in instructions, not as bulk data. */
  maxRenderedLength: 262_144,
  /** Deepest object/array nesting rendered in a step's input. */
  maxRenderDepth: 32,
  /** Most arguments any function takes; refuses a pathological call before it is evaluated. */
  maxArguments: 8,
} as const
