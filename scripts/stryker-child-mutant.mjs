// Vitest setup file for mutation runs only (vitest.stryker.config.ts). Stryker switches a
// mutant on in the test process (globalThis.__stryker__.activeMutant, set in its own
// beforeAll, which runs before this one); a child process such as the sandbox host reads it
// from __STRYKER_ACTIVE_MUTANT__ instead (Stryker's instrumented code looks there when its
// global is unset), so copy it into the environment children inherit.
import { afterAll, beforeAll } from 'vitest'

const ENV = '__STRYKER_ACTIVE_MUTANT__'

beforeAll(() => {
  const active = globalThis.__stryker__?.activeMutant
  if (active === undefined) delete process.env[ENV]
  else process.env[ENV] = String(active)
})

afterAll(() => {
  delete process.env[ENV]
})
