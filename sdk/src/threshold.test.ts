import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { ComparisonOperator, compareToThreshold } from './threshold.ts'

describe('compareToThreshold', () => {
  it('reads each operator as written, NaN unequal to everything', () => {
    expect(compareToThreshold(2, '>', 1)).toBe(true)
    expect(compareToThreshold(1, '>', 1)).toBe(false)
    expect(compareToThreshold(1, '>=', 1)).toBe(true)
    expect(compareToThreshold(1, '<', 1)).toBe(false)
    expect(compareToThreshold(0.5, '<=', 1)).toBe(true)
    expect(compareToThreshold(0, '==', 0)).toBe(true)
    expect(compareToThreshold(0, '!=', 0)).toBe(false)
    expect(compareToThreshold(Number.NaN, '==', Number.NaN)).toBe(false)
    expect(compareToThreshold(Number.NaN, '>=', 1)).toBe(false)
    expect(compareToThreshold(Number.NaN, '!=', 1)).toBe(true)
  })

  it('has a schema that takes the six operators and nothing else', () => {
    for (const op of ['>', '>=', '<', '<=', '==', '!='])
      expect(Value.Check(ComparisonOperator, op), op).toBe(true)
    for (const bad of ['=', '=>', 'gt', '', null, 1])
      expect(Value.Check(ComparisonOperator, bad), String(bad)).toBe(false)
  })
})
