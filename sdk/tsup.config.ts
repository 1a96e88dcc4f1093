import { defineConfig } from 'tsup'

// One build for the three entries, so that they share chunks: a PluginError thrown by the
// testing or manifest entry is the same class that `@stavily/sdk` exports (`instanceof`
// holds within one install). The root entry imports no Node built-in (the sandbox-safety
// test proves it on the sources); the platform only matters to the host-side entries.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    'manifest/index': 'src/manifest/index.ts',
    // The plugin build (esbuild, a peer dependency: only plugin projects and the registry need it).
    'build/index': 'src/build/index.ts',
  },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'node',
})
