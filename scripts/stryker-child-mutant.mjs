// Vitest setup file for mutation runs only (vitest.stryker.config.ts). It runs after
// Stryker's own setup file and before the test file is imported.
//
// 1. Static mutants (module-level code: a constant, a table of address ranges) run when the
//    module is imported. With a test-file list (`testFiles`), Stryker switches every mutant on
//    in a beforeAll, after the imports, so such a mutant was never live and "survived". Each
//    test file runs in a fresh worker that imports the modules again, so switching it on now,
//    before the imports, is safe for every mutant.
// 2. A child process such as the sandbox host has no Stryker global; Stryker's instrumented
//    code reads __STRYKER_ACTIVE_MUTANT__ from the environment instead, so put it there for
//    the children to inherit.
import { afterAll, inject } from 'vitest'

const ENV = '__STRYKER_ACTIVE_MUTANT__'

if (inject('mode') === 'mutant') {
  const active = inject('activeMutant')
  const ns = globalThis[inject('globalNamespace')]
  if (ns) ns.activeMutant = active
  process.env[ENV] = String(active)
} else {
  delete process.env[ENV]
}

afterAll(() => {
  delete process.env[ENV]
})
