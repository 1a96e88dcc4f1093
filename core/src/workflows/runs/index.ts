// Runs and steps, persisted with guarded state transitions.
export { queuedRuns, type StartAnswer, tryStartRun } from './concurrency.ts'
export {
  createRun,
  getRun,
  listRuns,
  type RunRecord,
  recordStep,
  type StepRecord,
  stepStates,
  transitionRun,
  transitionStep,
} from './run-store.ts'
