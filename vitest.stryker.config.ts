import { defineConfig, mergeConfig } from 'vitest/config'
import base from './vitest.config.ts'

// The test config Stryker drives (stryker.config.mjs): the suite's own, plus a setup file
// that hands the active mutant to child processes (the sandbox host), whose mutated code
// would otherwise never be switched on.
const config = mergeConfig(
  base,
  defineConfig({
    test: { setupFiles: ['./scripts/stryker-child-mutant.mjs'] },
  }),
)
// Stryker runs tests in worker threads, which refuse process-wide flags in execArgv: it
// starts its test-runner process with --no-node-snapshot instead (testRunnerNodeArgs).
config.test.execArgv = []
export default config
