// Builds dist/plugin.js the way the Stavily registry builds a published version: the
// manifest's entry, bundled with the SDK's own esbuild options, into ONE script that,
// run in an empty JavaScript global, defines `globalThis.__stavilyPlugin`. It checks the
// manifest first and, after bundling, runs the script in such an empty global (no Node,
// no browser APIs, as in the agent's sandbox), so a plugin that the registry would reject
// or the sandbox could not load fails here first.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { runInNewContext } from 'node:vm'
import { SDK_API_VERSION } from '@stavily/sdk'
import {
  isSdkCompatible,
  nodeBuiltinsGuard,
  PLUGIN_BUNDLE_GLOBAL,
  PLUGIN_BUNDLE_OPTIONS,
  validateManifest,
} from '@stavily/sdk/manifest'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('.', import.meta.url))
const outfile = 'dist/plugin.js'

function fail(lines) {
  console.error(['build failed:', ...[lines].flat().map((line) => `  ${line}`)].join('\n'))
  process.exit(1)
}

const pkg = JSON.parse(await readFile(new URL('package.json', import.meta.url), 'utf8'))
const checked = validateManifest(pkg)
if (!checked.ok) fail(checked.problems.map((problem) => `package.json ${problem.path}: ${problem.message}`))
const { kind, entry, sdk } = checked.manifest
if (!isSdkCompatible(sdk)) {
  fail(`package.json stavily.sdk: "${sdk}" does not include the installed SDK's API ${SDK_API_VERSION}`)
}

let code
try {
  const result = await build({
    ...PLUGIN_BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints: [entry],
    plugins: [nodeBuiltinsGuard()],
  })
  code = result.outputFiles[0].text
} catch (error) {
  // The SDK's options keep esbuild silent; its errors carry the file and line.
  const where = (location) => (location ? `${location.file}:${location.line}:${location.column}: ` : '')
  fail(error.errors?.map((e) => `${where(e.location)}${e.text}`) ?? String(error))
}
await mkdir(new URL('dist/', import.meta.url), { recursive: true })
await writeFile(new URL(outfile, import.meta.url), code)

const sandbox = {}
try {
  runInNewContext(code, sandbox, { filename: outfile, timeout: 5000 })
} catch (error) {
  fail(`${outfile} throws when loaded in an empty JavaScript global: ${error?.message ?? error}`)
}
const definition = sandbox[PLUGIN_BUNDLE_GLOBAL]?.default
if (definition?.kind !== kind) {
  const found = definition?.kind ? `kind "${definition.kind}"` : 'no plugin definition'
  fail(
    `${entry} must export default the result of define${kind[0].toUpperCase()}${kind.slice(1)}(...); found ${found}`,
  )
}
console.log(
  `built ${outfile}: ${kind} plugin ${pkg.name}@${pkg.version}, ${(code.length / 1024).toFixed(1)} kB`,
)
