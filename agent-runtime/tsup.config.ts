import { defineConfig } from 'tsup'

export default defineConfig({
  // The sandbox host child is its own entry: the supervisor forks dist/sandbox-host.js.
  // The agent bin (`stavily-agent`) is a third entry beside them in dist/, so its
  // supervisor finds dist/sandbox-host.js next to it.
  entry: { index: 'src/index.ts', 'sandbox-host': 'src/sandbox/host-main.ts', agent: 'src/agent/main.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
})
