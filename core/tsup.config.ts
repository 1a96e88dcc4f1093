import { defineConfig } from 'tsup'

export default defineConfig({
  // main.ts is the process entry (`node dist/main.js`), configured from the environment.
  entry: ['src/index.ts', 'src/main.ts', 'src/build-seed.ts'],
  // The embedded default's pre-built data folder (see src/db/seed.ts).
  onSuccess: 'node dist/build-seed.js',
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
})
