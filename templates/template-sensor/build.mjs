// Builds dist/plugin.js the way the Stavily registry builds a published version: the
// manifest's entry bundled with the SDK's own esbuild options into ONE script that, run in
// an empty JavaScript global, defines `globalThis.__stavilyPlugin`. Then it runs that
// script in such an empty global (no Node, no browser APIs, as in the agent's sandbox), so
// a plugin that would fail to load there fails here first.
import { mkdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import { PLUGIN_BUNDLE_OPTIONS } from '@stavily/sdk/manifest'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('.', import.meta.url))
const outfile = 'dist/plugin.js'

function fail(message) {
  console.error(`build failed: ${message}`)
  process.exit(1)
}

const pkg = JSON.parse(await readFile(new URL('package.json', import.meta.url), 'utf8'))
const manifest = pkg.stavily
if (!manifest?.entry || !manifest?.kind) fail('package.json needs a "stavily" field with "kind" and "entry"')

await mkdir(new URL('dist/', import.meta.url), { recursive: true })
try {
  await build({ ...PLUGIN_BUNDLE_OPTIONS, absWorkingDir: root, entryPoints: [manifest.entry], outfile })
} catch {
  // esbuild has already printed each error with its file and line.
  fail(
    `could not bundle ${manifest.entry}; a plugin may import only @stavily/sdk and plain JavaScript packages`,
  )
}

const code = await readFile(new URL(outfile, import.meta.url), 'utf8')
const sandbox = {}
try {
  runInNewContext(code, sandbox, { filename: outfile, timeout: 5000 })
} catch (error) {
  fail(`${outfile} throws when loaded in an empty JavaScript global: ${error?.message ?? error}`)
}
const definition = sandbox.__stavilyPlugin?.default
if (definition?.kind !== manifest.kind) {
  fail(
    `${outfile} must export default a define${manifest.kind[0].toUpperCase()}${manifest.kind.slice(1)}(...) ` +
      `result (package.json says kind "${manifest.kind}"), got ${definition?.kind ? `kind "${definition.kind}"` : 'no plugin'}`,
  )
}
console.log(
  `built ${outfile}: ${manifest.kind} plugin ${pkg.name}@${pkg.version}, ${(code.length / 1024).toFixed(1)} kB`,
)
