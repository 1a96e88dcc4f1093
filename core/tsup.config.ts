import { defineConfig } from 'tsup'

export default defineConfig({
  // main.ts is the process entry (`node dist/main.js`), configured from the environment.
  // cli is the `stavily` bin (package.json "bin"); its source starts with the
  // `#!/usr/bin/env node` line, which esbuild keeps at the top of dist/cli.js.
  entry: {
    index: 'src/index.ts',
    main: 'src/main.ts',
    'build-seed': 'src/build-seed.ts',
    cli: 'src/cli/main.ts',
  },
  // The embedded default's pre-built data folder (see src/db/seed.ts).
  onSuccess: 'node dist/build-seed.js',
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
})
