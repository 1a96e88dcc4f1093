// The engine's pure decision function; the engine loop persists and dispatches its moves.
export { type Move, type Plan, planNext, type StepState } from './plan-next.ts'
