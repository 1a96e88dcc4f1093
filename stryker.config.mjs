// Mutation testing of the safety-critical modules (issue 20). One Stryker run per module
// group, so each group runs only the tests that exercise it: `npm run test:mutation` runs
// them in turn (scripts/mutation.mjs) and prints the score per group
// (scripts/mutation-report.mjs). MUTATION_GROUP picks the group this config describes.
//
// Globs name files, not folders, where a module may move (the sandbox's files are being
// regrouped under agent-runtime/src/sandbox/): `**/` keeps them matching after a move.
import { GROUPS } from './scripts/mutation-groups.mjs'

const name = process.env.MUTATION_GROUP
const group = GROUPS[name]
if (!group) {
  throw new Error(
    `MUTATION_GROUP: must be one of ${Object.keys(GROUPS).join(', ')}, got ${JSON.stringify(name)}; ` +
      'run `npm run test:mutation` (all groups) or `npm run test:mutation -- <group>`',
  )
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts', related: false },
  // The other engineers share the two cores: one test runner at a time.
  concurrency: 1,
  mutate: [...group.mutate, '!**/*.test.ts'],
  testFiles: group.tests,
  // perTest: each mutant runs only the tests that reached it. A group whose code runs in a
  // child process (the sandbox host) reports no coverage from there, so it runs all of
  // its (few) test files for every mutant instead ('off').
  coverageAnalysis: group.coverageAnalysis ?? 'perTest',
  // The sandbox host child loads isolated-vm, which needs this in every process loading it;
  // the test runner passes it on to tests that load it in-process.
  testRunnerNodeArgs: ['--no-node-snapshot'],
  // Loaded machines (two cores, eight engineers): a slow test is not an infinite loop.
  timeoutMS: 20_000,
  dryRunTimeoutMinutes: 10,
  // Only changed code is retested: the results of the last full run are committed per group.
  incremental: true,
  incrementalFile: `.stryker/${name}.json`,
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  clearTextReporter: { allowEmojis: false, logTests: false, reportMutants: true },
  thresholds: { high: 90, low: 80, break: group.break },
  tempDirName: '.stryker-tmp',
  // Other packages' build output, reports and the CI's caches do not belong in the sandbox.
  // Another group's sandbox (.stryker-tmp-<group>, when two run at once) is not part of the project.
  ignorePatterns: ['reports', '.stryker', '.stryker-tmp*', 'bench/results', 'coverage'],
  cleanTempDir: true,
}
