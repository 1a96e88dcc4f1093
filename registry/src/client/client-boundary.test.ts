import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

// Agents import @stavily/registry/client; the server's dependencies must never reach it.
describe('the client entry', () => {
  it('imports only tuf-js, @tufjs/models and Node built-ins, and no server module', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    })
    const inputs = Object.keys(result.metafile.inputs)
    const externals = new Set(
      Object.values(result.metafile.inputs).flatMap((i) =>
        i.imports.filter((x) => x.external).map((x) => x.path),
      ),
    )
    for (const forbidden of [
      '/http/',
      '/storage/',
      '/build/',
      '/git/',
      '/publish/',
      '/catalog/',
      'registry.ts',
    ])
      expect(inputs.filter((p) => p.includes(forbidden))).toEqual([])
    const allowed = (p: string) =>
      p.startsWith('node:') ||
      ['crypto', 'fs', 'fs/promises', 'os', 'path'].includes(p) ||
      p === 'tuf-js' ||
      p.startsWith('tuf-js/') ||
      p === '@tufjs/models'
    expect([...externals].filter((p) => !allowed(p))).toEqual([])
    expect(externals.has('tuf-js')).toBe(true)
  })
})
