import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { afterAll, describe, expect, it } from 'vitest'
import { ACTION_SOURCE, LABEL_SOURCE } from '../../test/helpers/plugin-fixtures.ts'
import { PROVIDED_SDK } from '../../test/helpers/sdk.ts'
import { isRegistryError, type RegistryError } from '../errors.ts'
import { bundlePlugin } from './bundle.ts'

const root = mkdtempSync(join(tmpdir(), 'stavily-bundle-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function project(name: string, files: Record<string, string>): string {
  const dir = join(root, name)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  return dir
}
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as RegistryError,
  )

describe('bundlePlugin', () => {
  it('builds one script that defines the plugin in an empty global', async () => {
    const dir = project('ok', { 'src/index.ts': ACTION_SOURCE, 'src/label.ts': LABEL_SOURCE })
    const { bytes, sha256 } = await bundlePlugin(dir, 'src/index.ts', { provided: PROVIDED_SDK })
    expect(sha256).toMatch(/^[0-9a-f]{64}$/)
    const text = Buffer.from(bytes).toString('utf8')
    expect(text).not.toContain(root)
    expect(text).not.toContain('/work/')
    // Host files are named by package and version, not by where they live on this machine.
    expect(text).toContain('// @stavily/sdk@')
    expect(text).not.toContain('../')
    const sandbox: Record<string, unknown> = {}
    runInNewContext(text, sandbox)
    const plugin = (sandbox.__stavilyPlugin as { default: { kind: string; run: unknown } }).default
    expect(plugin.kind).toBe('action')
    expect(typeof plugin.run).toBe('function')
  })

  it('gives the same bytes for the same sources in another folder', async () => {
    const files = { 'src/index.ts': ACTION_SOURCE, 'src/label.ts': LABEL_SOURCE }
    const a = await bundlePlugin(project('same-a', files), 'src/index.ts', { provided: PROVIDED_SDK })
    const b = await bundlePlugin(project('deeper/folder/same-b', files), 'src/index.ts', {
      provided: PROVIDED_SDK,
    })
    expect(b.sha256).toBe(a.sha256)
    expect(Buffer.compare(Buffer.from(a.bytes), Buffer.from(b.bytes))).toBe(0)
  })

  it('lists every Node built-in and host-only import with its importer, in one error', async () => {
    const dir = project('builtins', {
      'src/index.ts': `import { readFileSync } from 'node:fs'\nimport { helper } from './helper.ts'\nimport { createHarness } from '@stavily/sdk/testing'\nexport default { readFileSync, helper, createHarness }\n`,
      'src/helper.ts': `import cp from 'child_process'\nimport { join } from 'path/posix'\nexport const helper = [cp, join]\n`,
    })
    const err = await failure(bundlePlugin(dir, 'src/index.ts', { provided: PROVIDED_SDK }))
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_FORBIDDEN_IMPORT')).toBe(true)
    expect(err?.message).toContain('node:fs (imported by src/index.ts)')
    expect(err?.message).toContain('child_process (imported by src/helper.ts)')
    expect(err?.message).toContain('path/posix (imported by src/helper.ts)')
    expect(err?.message).toContain('@stavily/sdk/testing (imported by src/index.ts)')
    expect(err?.message).toContain('ctx.fetch')
    expect(err?.data?.imports).toHaveLength(4)
  })

  it('refuses sources that reach outside the checkout through a symlink', async () => {
    const outside = project('outside', { 'secret.json': '{"token":"abc"}' })
    const dir = project('escape', {
      'src/index.ts': `import s from './link/secret.json'\nexport default s\n`,
    })
    symlinkSync(outside, join(dir, 'src', 'link'))
    const err = await failure(bundlePlugin(dir, 'src/index.ts'))
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_FORBIDDEN_IMPORT')).toBe(true)
    expect(err?.message).toContain('./link/secret.json (imported by src/index.ts)')
  })

  it('reports a syntax error with its file, line and column', async () => {
    const dir = project('syntax', { 'src/index.ts': 'export default {\n  kind: "action",,\n}\n' })
    const err = await failure(bundlePlugin(dir, 'src/index.ts'))
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_BUILD_FAILED')).toBe(true)
    expect(err?.message).toMatch(/src\/index\.ts:2:\d+: /)
  })

  it('refuses a bundle over the size limit, naming both sizes', async () => {
    const dir = project('big', { 'src/index.ts': `export default ${JSON.stringify('x'.repeat(5000))}\n` })
    const err = await failure(bundlePlugin(dir, 'src/index.ts', { maxBundleBytes: 2000 }))
    expect(isRegistryError(err, 'STAVILY_ERR_REGISTRY_BUNDLE_TOO_LARGE')).toBe(true)
    expect(err?.message).toMatch(/is \d+ bytes, more than the limit of 2000/)
  })
})
