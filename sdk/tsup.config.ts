import { defineConfig } from 'tsup'

export default defineConfig([
  {
    // The root entry is bundled into plugins and runs inside the sandbox: no Node built-ins.
    entry: { index: 'src/index.ts' },
    format: ['esm'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'neutral',
  },
  {
    // Host-side entries run in Node (the manifest's esbuild guard reads node:module).
    entry: { 'testing/index': 'src/testing/index.ts', 'manifest/index': 'src/manifest/index.ts' },
    format: ['esm'],
    dts: true,
    clean: false,
    sourcemap: true,
    target: 'es2022',
    platform: 'node',
  },
])
