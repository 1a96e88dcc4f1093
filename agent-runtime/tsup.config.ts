import { defineConfig, type Options } from 'tsup'
import { pureTypebox } from './build/pure-typebox.ts'

// Three builds. The library entry keeps its dependencies external, as any package does.
// The two process entries — the agent bin (`stavily-agent`) and the sandbox host it forks —
// inline theirs, each on its own (no chunk shared between them): Node keeps every loaded
// ES module's source and code in memory, and typebox alone is hundreds of modules (about
// 28 MB resident loaded as files, 4 MB bundled), so a bundled process idles at a fraction
// of the memory (`npm run bench -- agent`). isolated-vm stays external: it is native, and
// is loaded at run time from whichever build matches the Node.js version. All write into
// dist/, so the supervisor finds dist/sandbox-host.js next to either entry; `npm run
// build` empties dist/ first (tsup's own clean would race between the builds).
const shared: Options = { format: ['esm'], sourcemap: true, target: 'node20', platform: 'node' }

const processEntry = (entry: Record<string, string>): Options => ({
  ...shared,
  entry,
  noExternal: [/.*/],
  external: ['isolated-vm-5', 'isolated-vm-6'],
  esbuildPlugins: [pureTypebox],
  esbuildOptions(o) {
    // tuf-js's default fetcher is never used (the registry client passes its own): its
    // make-fetch-happen, about 1 MB of code with its dependencies, becomes a stub that throws.
    o.alias = { 'make-fetch-happen': './build/no-make-fetch-happen.cjs' }
  },
  // Inlined CommonJS dependencies call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __stavilyCreateRequire } from 'node:module'; const require = __stavilyCreateRequire(import.meta.url);",
  },
})

export default defineConfig([
  { ...shared, entry: { index: 'src/index.ts' }, dts: { entry: { index: 'src/index.ts' } } },
  processEntry({ agent: 'src/agent/main.ts' }),
  processEntry({ 'sandbox-host': 'src/sandbox/host/host-main.ts' }),
])
