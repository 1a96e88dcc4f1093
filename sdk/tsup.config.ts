import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts', 'manifest/index': 'src/manifest/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // The root entry is bundled into plugins and runs inside the sandbox: no Node built-ins.
  platform: 'neutral',
})
