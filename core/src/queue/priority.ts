import { checkInt } from '../checks.ts'

// Bounds of an instruction's or run's priority: enough levels to order work, few enough to
// reason about. Higher is claimed first within a pool; the dispatcher's fairness rule
// (dispatcher.ts, #fairTurn) keeps lower priorities moving.
export const PRIORITY_MIN = -100
export const PRIORITY_MAX = 100

/** A priority in range; the message names the field. */
export function checkPriority(v: unknown): number {
  return checkInt('priority', v ?? 0, PRIORITY_MIN, PRIORITY_MAX)
}
