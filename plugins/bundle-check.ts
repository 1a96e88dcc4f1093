// Shared by every first-party plugin's test/bundle.test.ts: builds a plugin the way the
// registry does (the SDK's esbuild options and its Node built-ins guard) and loads the bundle
// in the agent's real sandbox (isolated-vm in the sandbox host process, through
// @stavily/agent's createSandbox), which checks the definition as the agent does; the
// bundle tests call the plugin there, against real loopback servers, files and commands.
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createSandbox, type LoadedPlugin, type PluginSpec, type Sandbox } from '@stavily/agent'
import { nodeBuiltinsGuard, PLUGIN_BUNDLE_OPTIONS, validateManifest } from '@stavily/sdk/manifest'
import { build } from 'esbuild'
import { expect, it } from 'vitest'

/** Builds the plugin whose test file is `testFileUrl` (its package.json is `pkg`). */
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
  return { text: result.outputFiles[0]!.text, kind: checked.manifest.kind, entry: checked.manifest.entry }
}

export interface LoopbackServer {
  port: number
  url: string
  /** Every request it got, in order. */
  requests: { method: string; url: string; body: string }[]
  close(): Promise<void>
}

/** A loopback HTTP server on a port of its own (port 0) answering with `handle`. */
export async function loopbackServer(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<LoopbackServer> {
  const requests: LoopbackServer['requests'] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      })
      handle(req, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
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
 * Loads the plugin's bundle into a real sandbox, as the agent does, with `grants` (the
 * operator's side: the plugin gets declared ∩ granted). Close the sandbox when done
 * (`await using` is not available on Node 20), or use `inSandbox`.
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
    // The schemas are data: read from the plugin's source definition (the bundle's are the same
    // objects, and the sandbox test above already refuses the patterns the agent would).
    const { entry } = await loadBundle(testFileUrl, pkg)
    const definition = (await import(new URL(`../${entry}`, testFileUrl).href)).default
    for (const pattern of patterns(definition.schemas)) {
      expect(pattern, pattern).not.toMatch(/[()]/)
      expect(() => new RegExp(pattern, 'u'), pattern).not.toThrow()
    }
  })
}

/** Runs `use` with the plugin loaded in a real sandbox, and closes the sandbox after. */
export async function inSandbox<T>(
  testFileUrl: string,
  pkg: unknown,
  grants: PluginSpec['grants'],
  use: (sandbox: Sandbox, name: string) => Promise<T>,
): Promise<T> {
  const { sandbox, name } = await loadInSandbox(testFileUrl, pkg, grants)
  try {
    return await use(sandbox, name)
  } finally {
    await sandbox.close()
  }
}
