import { type Static, Type } from 'typebox'

// A value against a threshold, as sensors that watch a number configure it (the first-party
// postgres and prometheus-query sensors): one operator list, one schema, one comparison, so
// `>=` means the same in every plugin and in its config's schema.

/**
 * The schema of a comparison operator in a plugin's config or event: `>`, `>=`, `<`, `<=`,
 * `==` or `!=`. The type of the same name is its value.
 *
 * @example
 * ```ts
 * import { ComparisonOperator, Type } from '@stavily/sdk'
 * const config = Type.Object({ query: Type.String(), operator: ComparisonOperator, threshold: Type.Number() })
 * ```
 */
export const ComparisonOperator = Type.Union([
  Type.Literal('>'),
  Type.Literal('>='),
  Type.Literal('<'),
  Type.Literal('<='),
  Type.Literal('=='),
  Type.Literal('!='),
])
export type ComparisonOperator = Static<typeof ComparisonOperator>

/**
 * Whether `value <operator> threshold` holds, as PromQL's and SQL's comparisons read it
 * (NaN compares unequal to everything, so only `!=` holds for it).
 *
 * @example
 * ```ts
 * import { compareToThreshold } from '@stavily/sdk'
 * if (compareToThreshold(value, ctx.config.operator, ctx.config.threshold)) events.push(breach)
 * ```
 */
export function compareToThreshold(value: number, operator: ComparisonOperator, threshold: number): boolean {
  switch (operator) {
    case '>':
      return value > threshold
    case '>=':
      return value >= threshold
    case '<':
      return value < threshold
    case '<=':
      return value <= threshold
    case '==':
      return value === threshold
    case '!=':
      return value !== threshold
  }
}
