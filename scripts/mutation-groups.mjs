// The module groups `npm run test:mutation` mutates, and the tests that guard each. A group
// lists only the tests that exercise its modules, so a mutant never waits on the whole
// suite. `break` is the score (% of mutants killed) below which the run fails: set to what
// the tests achieve today (docs/internals.md, "Mutation testing"), to be raised, never lowered.
//
// Globs name files by their name under a package folder (`**/`), so a module that moves
// within its package (agent-runtime/src/sandbox/ is being regrouped) stays mutated.

export const GROUPS = {
  policy: {
    title: 'sandbox: the fetch address policy',
    mutate: ['agent-runtime/src/sandbox/**/address-policy.ts'],
    tests: [
      'agent-runtime/src/sandbox/**/address-policy.test.ts',
      'agent-runtime/test/capabilities-fetch.test.ts',
    ],
    break: 71,
  },
  // The capabilities run in the sandbox host, a child process: Stryker sees no coverage
  // from there ('off': every mutant runs the group's tests), so each capability is a group
  // of its own with only the tests that drive it.
  fetch: {
    title: 'sandbox: ctx.fetch (redirects, credentials, limits)',
    mutate: ['agent-runtime/src/sandbox/**/capabilities/fetch.ts'],
    tests: ['agent-runtime/test/capabilities-fetch.test.ts'],
    coverageAnalysis: 'off',
    break: 86,
  },
  // Unit tests beside the modules call them in the test process (real guards, real commands,
  // real folders), so Stryker sees which tests reach a mutant and runs only those.
  capabilities: {
    title: 'sandbox: ctx.exec, ctx.fs and the capability dispatch',
    mutate: ['agent-runtime/src/sandbox/**/capabilities/{dispatch,exec,fs,args,operation-limits,denied}.ts'],
    tests: ['agent-runtime/src/sandbox/**/capabilities/{dispatch,exec,fs,args,operation-limits}.test.ts'],
    break: 92,
  },
  connections: {
    title: 'sandbox: ctx.sql, ctx.smtp, watches and events (the connection capabilities)',
    mutate: [
      'agent-runtime/src/sandbox/**/capabilities/{sql,smtp,connections,resolve-address,subscriptions,fs-watch,log-emit}.ts',
    ],
    // In-process too, against the real PostgreSQL (DATABASE_URL, else 127.0.0.1:5432) and
    // SMTP servers on loopback.
    tests: [
      'agent-runtime/src/sandbox/**/capabilities/{sql,smtp,connections,resolve-address,subscriptions,fs-watch,log-emit}.test.ts',
    ],
    break: 87,
  },
  boundary: {
    title: 'sandbox: bootstrap and boundary checks',
    mutate: [
      'agent-runtime/src/sandbox/**/bootstrap.ts',
      'agent-runtime/src/sandbox/**/validate.ts',
      'agent-runtime/src/sandbox/**/load-spec.ts',
      'agent-runtime/src/sandbox/**/invoke-checks.ts',
    ],
    tests: [
      'agent-runtime/src/sandbox/**/load-spec.test.ts',
      'agent-runtime/src/sandbox/**/invoke-checks.test.ts',
      'agent-runtime/test/sandbox-basics.test.ts',
      'agent-runtime/test/hostile-escape.test.ts',
      'agent-runtime/test/hostile-limits.test.ts',
      'agent-runtime/test/hostile-deep-values.test.ts',
    ],
    coverageAnalysis: 'off',
    break: 90,
  },
  tuf: {
    title: 'registry: TUF client and verify',
    mutate: ['registry/src/client/**/*.ts', 'registry/src/tuf/**/*.ts'],
    // The unit tests beside the modules: registry-client.test.ts serves a signed repository
    // over loopback without the build pipeline (milliseconds a case). trust.test.ts and
    // verify-command.test.ts publish through git and esbuild first (25 s a run here, hours over
    // the group's mutants) and install.test.ts runs npm; they stay in the suite, not here.
    tests: ['registry/src/tuf/**/*.test.ts', 'registry/src/client/**/*.test.ts'],
    break: 94,
  },
  webhook: {
    title: 'core: webhook signature and deliveries',
    mutate: ['core/src/workflows/webhook/**/*.ts'],
    tests: ['core/src/workflows/webhook/**/*.test.ts'],
    break: 79,
  },
  audit: {
    title: 'core: audit append and verify',
    mutate: ['core/src/audit/{append,verify,checks,entry}.ts'],
    tests: ['core/src/audit/**/*.test.ts'],
    break: 100,
  },
  access: {
    title: 'core: auth and tenancy guards',
    mutate: ['core/src/http/auth.ts', 'core/src/services/tenancy.ts'],
    // Unit tests on a real database (PGlite), no HTTP: every request of the API suites
    // (tenancy, api/access, engine/cancel-retry-tenancy) passes these guards, so each mutant
    // would rerun them all, starting an orchestrator per file (a minute a mutant). What they
    // add is the routes' own organization scoping, which is not in these modules.
    tests: ['core/src/http/auth.test.ts', 'core/src/services/tenancy.test.ts'],
    break: 96,
  },
  dispatch: {
    title: 'core: dispatcher leases and results',
    mutate: [
      'core/src/db/plans/instructions.ts',
      'core/src/queue/{dispatcher,dispatch-core,queues,claims,results,leases}.ts',
    ],
    // Unit tests driving the Dispatcher on PGlite without HTTP (seconds a file); the API
    // suites (agent-api, engine/*, result-next) start an orchestrator per file, 85 s a mutant.
    tests: ['core/src/queue/{queues,claims,results,leases}.test.ts'],
    break: null,
  },
  secrets: {
    title: 'core: secrets',
    mutate: ['core/src/secrets/**/*.ts'],
    tests: ['core/src/secrets/**/*.test.ts'],
    break: 82,
  },
}
