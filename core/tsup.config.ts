import { defineConfig } from 'tsup'

export default defineConfig({
  // main.ts is the process entry (`node dist/main.js`), configured from the environment.
  entry: ['src/index.ts', 'src/main.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
})
