import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import vm from 'node:vm'
import { build, type Plugin } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'
import { PLUGIN_BUNDLE_GLOBAL, PLUGIN_BUNDLE_OPTIONS } from '../manifest/bundle-options.ts'
import { bundlePluginSource } from './bundle-plugin.ts'

// The SDK from its sources, as a plugin's own node_modules would provide it (its package.json
// names it @stavily/sdk; typebox resolves from there).
const sdkSource = fileURLToPath(new URL('../index.ts', import.meta.url))
const sdkFromSource: Plugin = {
  name: 'sdk-from-source',
  setup(b) {
    b.onResolve({ filter: /^@stavily\/sdk$/ }, () => ({ path: sdkSource }))
  },
}
// The workspace's node_modules (typebox among them), as a plugin project has its own.
const nodeModules = fileURLToPath(new URL('../../../node_modules', import.meta.url))
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function project(source: string): string {
  const root = mkdtempSync(join(tmpdir(), 'stavily-slim-'))
  dirs.push(root)
  mkdirSync(join(root, 'src'))
  writeFileSync(join(root, 'src/index.ts'), source)
  symlinkSync(nodeModules, join(root, 'node_modules'))
  return root
}

function definitionOf(code: string): { schemas: unknown; run(ctx: unknown, input: unknown): unknown } {
  const realm = vm.createContext(Object.create(null))
  vm.runInContext(code, realm)
  return (realm as Record<string, { default: never }>)[PLUGIN_BUNDLE_GLOBAL]!.default
}

/** The same entry bundled with TypeBox, as every bundle was before the slim builders. */
async function withTypebox(root: string): Promise<string> {
  const r = await build({
    ...(PLUGIN_BUNDLE_OPTIONS as object),
    entryPoints: ['src/index.ts'],
    absWorkingDir: root,
    plugins: [sdkFromSource],
  })
  return r.outputFiles![0]!.text
}

const action = (
  schemas: string,
  body = 'return { ok: true }',
) => `import { defineAction, Type } from '@stavily/sdk'
export default defineAction({
  ${schemas},
  run(ctx, input) { ${body} },
})
`

describe('the plugin build and TypeBox', () => {
  it('leaves TypeBox out of a plugin that only builds schemas, with the same schemas as TypeBox gives', async () => {
    const root = project(
      action(`input: Type.Object({ a: Type.String({ minLength: 1 }), n: Type.Optional(Type.Integer()), e: Type.Record(Type.String(), Type.Union([Type.Literal('x'), Type.Null()])) }),
  output: Type.Object({ ok: Type.Boolean() })`),
    )
    const { code } = await bundlePluginSource({ root, entry: 'src/index.ts', plugins: [sdkFromSource] })
    const full = await withTypebox(root)
    expect(code.length).toBeLessThan(40_000)
    expect(full.length).toBeGreaterThan(200_000)
    expect(JSON.stringify(definitionOf(code).schemas)).toBe(JSON.stringify(definitionOf(full).schemas))
    expect(definitionOf(code).run({}, {})).toEqual({ ok: true })
    // Same sources, same bytes.
    expect((await bundlePluginSource({ root, entry: 'src/index.ts', plugins: [sdkFromSource] })).code).toBe(
      code,
    )
  })

  const needsTypebox: Record<string, string> = {
    'a builder the slim set lacks': action(
      'input: Type.Tuple([Type.String()]), output: Type.Object({ ok: Type.Boolean() })',
    ),
    'a record keyed by something else than a string': action(
      'input: Type.Record(Type.Integer(), Type.String()), output: Type.Object({ ok: Type.Boolean() })',
    ),
    'Type used other than as Type.<builder>(...)': action(
      'input: Type.Object({}), output: (Type as any)["Object"]({ ok: Type.Boolean() })',
    ),
    'TypeBox imported by the plugin itself': `import { defineAction, Type } from '@stavily/sdk'
import { Value } from 'typebox/value'
export default defineAction({
  input: Type.Object({ a: Type.String() }),
  output: Type.Object({ ok: Type.Boolean() }),
  run(ctx, input) { return { ok: Value.Check(Type.String(), input.a) } },
})
`,
  }
  for (const [name, source] of Object.entries(needsTypebox)) {
    it(`bundles TypeBox as before for ${name}`, async () => {
      const root = project(source)
      const { code } = await bundlePluginSource({ root, entry: 'src/index.ts', plugins: [sdkFromSource] })
      expect(code).not.toContain('__stavilySlimType')
      expect(code.length).toBeGreaterThan(200_000)
      expect(JSON.stringify(definitionOf(code).schemas)).toBe(
        JSON.stringify(definitionOf(await withTypebox(root)).schemas),
      )
    })
  }

  it('writes ASCII only, so V8 keeps the bundle one byte a character', async () => {
    const root = project(
      action('input: Type.Object({}), output: Type.Object({})', "return { s: 'é…' } as never"),
    )
    const { code } = await bundlePluginSource({ root, entry: 'src/index.ts', plugins: [sdkFromSource] })
    expect([...code].every((c) => c.charCodeAt(0) < 0x80)).toBe(true)
    expect(definitionOf(code).run({}, {})).toEqual({ s: 'é…' })
  })
})
