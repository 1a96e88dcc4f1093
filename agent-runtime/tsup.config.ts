import { defineConfig } from 'tsup'

export default defineConfig({
  // The sandbox host child is its own entry: the supervisor forks dist/sandbox-host.js.
  entry: { index: 'src/index.ts', 'sandbox-host': 'src/sandbox/host-main.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
})
