import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// Test files run in parallel workers. Most of a file's time is waiting (orchestrators,
// agents and registries as real processes, databases, loopback HTTP), so a 2-core machine
// runs two at once (vitest's default there would be one: cores − 1).
// STAVILY_TEST_WORKERS overrides it (1 to run the files one after another).
const workers = Number(process.env.STAVILY_TEST_WORKERS) || Math.max(2, availableParallelism() - 1)

// Tests import workspace packages from source, so `vitest` works without a build.
// Child processes (sandbox host, agents, CLIs) run the built `dist/` files instead:
// `npm test` builds first.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@stavily\/sdk$/, replacement: src('./sdk/src/index.ts') },
      { find: /^@stavily\/sdk\/testing$/, replacement: src('./sdk/src/testing/index.ts') },
      { find: /^@stavily\/sdk\/manifest$/, replacement: src('./sdk/src/manifest/index.ts') },
      { find: /^@stavily\/sdk\/build$/, replacement: src('./sdk/src/build/index.ts') },
      { find: /^@stavily\/protocol$/, replacement: src('./protocol/src/index.ts') },
      { find: /^@stavily\/registry$/, replacement: src('./registry/src/index.ts') },
      { find: /^@stavily\/registry\/client$/, replacement: src('./registry/src/client/index.ts') },
      { find: /^@stavily\/agent$/, replacement: src('./agent-runtime/src/index.ts') },
      { find: /^@stavily\/core$/, replacement: src('./core/src/index.ts') },
      // Core's and the registry's test helpers, for the other packages' tests (workspace-only exports).
      { find: /^@stavily\/core\/testing$/, replacement: src('./core/test/testing.ts') },
      { find: /^@stavily\/registry\/testing$/, replacement: src('./registry/test/testing.ts') },
    ],
  },
  test: {
    include: [
      '{sdk,protocol,registry,agent-runtime,core,templates}/{src,test}/**/*.test.ts',
      'plugins/*/{src,test}/**/*.test.ts',
      // The dashboard's logic (plain TS modules; its browser tests live in dashboard/test/browser).
      'dashboard/src/**/*.test.ts',
      // The dashboard in Chromium against a real orchestrator (needs the dashboard built).
      'dashboard/test/**/*.test.ts',
      // Whole-platform tests: the orchestrator, agents and registry as real processes.
      'e2e/test/**/*.test.ts',
      // Checks across the repository (the docs name only plugins and commands that exist).
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**', '**/fixtures/**'],
    // Tags what the run names and fails it when schemas, Redis keys or temp folders are left.
    globalSetup: ['./test/leak-check.ts'],
    pool: 'forks',
    maxWorkers: workers,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // isolated-vm needs this on Node 20+ in any process that loads it.
    execArgv: ['--no-node-snapshot'],
  },
})
