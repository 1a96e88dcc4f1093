import { defineConfig } from 'tsup'

export default defineConfig({
  // Two entries: the server side, and the agent-side client that must not pull it in.
  entry: { index: 'src/index.ts', client: 'src/client/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
})
