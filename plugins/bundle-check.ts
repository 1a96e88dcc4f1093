// Shared by every first-party plugin's test/bundle.test.ts: builds a plugin the way the
// registry does (the SDK's esbuild options and its Node built-ins guard) and loads the bundle
// in the agent's real sandbox (isolated-vm in the sandbox host process, through
// @stavily/agent's createSandbox), which checks the definition as the agent does. The
// harness runs also take the definition from an empty ECMAScript realm (no Node, no timers,
// no URL, no fetch): the harness needs the handlers as functions in this process.
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { createSandbox, type LoadedPlugin, type PluginSpec, type Sandbox } from '@stavily/agent'
import {
  nodeBuiltinsGuard,
  PLUGIN_BUNDLE_GLOBAL,
  PLUGIN_BUNDLE_OPTIONS,
  validateManifest,
} from '@stavily/sdk/manifest'
import { build } from 'esbuild'
import { expect, it } from 'vitest'

/**
 * Builds the plugin whose test file is `testFileUrl` (its package.json is `pkg`) and loads
 * the bundle in an empty realm.
 */
export async function loadBundle(testFileUrl: string, pkg: unknown) {
  const root = fileURLToPath(new URL('..', testFileUrl))
  const checked = validateManifest(pkg)
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems))
  const result = await build({
    ...PLUGIN_BUNDLE_OPTIONS,
    entryPoints: [checked.manifest.entry],
    absWorkingDir: root,
    // The SDK from source, as the tests' own imports are: no dependency on a fresh sdk/dist.
    alias: { '@stavily/sdk': fileURLToPath(new URL('../sdk/src/index.ts', import.meta.url)) },
    plugins: [nodeBuiltinsGuard()],
  })
  const text = result.outputFiles[0]!.text
  const realm = vm.createContext(Object.create(null))
  vm.runInContext(text, realm, { filename: 'plugin.js', timeout: 5000 })
  const exported = (realm as Record<string, { default: unknown }>)[PLUGIN_BUNDLE_GLOBAL]
  return { text, definition: exported?.default as Record<string, unknown>, kind: checked.manifest.kind }
}

/**
 * The realm's definition with its handlers given a context that copies every argument the
 * plugin passes out (log fields, events, state values) into this realm, as the agent's
 * sandbox copies them out of the isolate; the harness checks they are plain JSON here.
 */
export function copyingOut(definition: Record<string, unknown>): Record<string, unknown> {
  const wrap = (value: unknown): unknown => {
    if (typeof value === 'function') {
      return (...args: unknown[]) =>
        (value as (...a: unknown[]) => unknown)(...args.map((arg) => structuredClone(arg)))
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, key === 'config' ? inner : wrap(inner)]),
    )
  }
  const out: Record<string, unknown> = { ...definition }
  for (const handler of ['check', 'watch', 'run', 'send']) {
    const fn = definition[handler]
    if (typeof fn === 'function') out[handler] = (ctx: unknown, input: unknown) => fn(wrap(ctx), input)
  }
  return out
}

/** Every `pattern` in the schemas: the agent runs them outside the sandbox and refuses risky ones. */
export function patterns(schema: unknown, found: string[] = []): string[] {
  if (Array.isArray(schema)) for (const item of schema) patterns(item, found)
  else if (typeof schema === 'object' && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'pattern' && typeof value === 'string') found.push(value)
      else if (key === 'patternProperties' && typeof value === 'object' && value !== null)
        found.push(...Object.keys(value))
      else patterns(value, found)
    }
  }
  return found
}

/**
 * Loads the plugin's bundle into a real sandbox, as the agent does. Close the sandbox when
 * done (`await using` is not available on Node 20).
 */
export async function loadInSandbox(
  testFileUrl: string,
  pkg: unknown,
  grants?: PluginSpec['grants'],
): Promise<{ sandbox: Sandbox; loaded: LoadedPlugin; name: string }> {
  const { text } = await loadBundle(testFileUrl, pkg)
  const sandbox = await createSandbox()
  try {
    const loaded = await sandbox.load({ manifest: pkg, bundle: text, grants })
    return { sandbox, loaded, name: loaded.name }
  } catch (err) {
    await sandbox.close()
    throw err
  }
}

/** Fresh ids for one sandbox call. */
export function callIds(): { invocationId: string; idempotencyKey: string } {
  return { invocationId: randomUUID(), idempotencyKey: randomUUID() }
}

/** The checks every plugin's bundle must pass: no Node built-ins, the declared kind, safe patterns. */
export function itBundlesForTheSandbox(testFileUrl: string, pkg: unknown, kind: string): void {
  it(`bundles without Node built-ins and loads in the agent's sandbox as a plugin of kind ${kind}`, async () => {
    const { text, kind: declared } = await loadBundle(testFileUrl, pkg)
    expect(declared).toBe(kind)
    expect(text).not.toMatch(/\brequire\(/)
    const { sandbox, loaded } = await loadInSandbox(testFileUrl, pkg)
    try {
      expect(loaded.kind).toBe(kind)
      expect(loaded.name).toBe((pkg as { name: string }).name)
    } finally {
      await sandbox.close()
    }
  })

  it('uses only group-free schema patterns (nothing the agent could refuse as catastrophic backtracking)', async () => {
    const { definition } = await loadBundle(testFileUrl, pkg)
    for (const pattern of patterns(definition.schemas)) {
      expect(pattern, pattern).not.toMatch(/[()]/)
      expect(() => new RegExp(pattern, 'u'), pattern).not.toThrow()
    }
  })
}
