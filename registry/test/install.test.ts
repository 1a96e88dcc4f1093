import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { backends, dropSchema } from './helpers/backends.ts'
import { pluginFiles } from './helpers/plugin-fixtures.ts'
import { testRegistry } from './helpers/registry.ts'
import { TestRepo } from './helpers/repos.ts'

// A plugin with its own runtime dependency: installed from its lockfile with `npm ci
// --ignore-scripts` (a local `file:` package, so no network), bundled, and the install
// script of the dependency never runs.

const root = mkdtempSync(join(tmpdir(), 'stavily-install-'))
let repo: TestRepo
const marker = join(root, 'install-script-ran')

beforeAll(() => {
  repo = new TestRepo(root, 'with-deps')
  repo.write({
    ...pluginFiles({
      version: '1.0.0',
      dependencies: { 'tiny-label': 'file:vendor/tiny-label' },
      source: `import { defineAction, Type } from '@stavily/sdk'
import { shout } from 'tiny-label'
export default defineAction({
  input: Type.Object({ s: Type.String() }),
  output: Type.Object({ s: Type.String() }),
  async run(_ctx, input) {
    return { s: shout(input.s) }
  },
})
`,
    }),
    'vendor/tiny-label/package.json': JSON.stringify({
      name: 'tiny-label',
      version: '1.0.0',
      type: 'module',
      main: 'index.js',
      scripts: { install: `node -e "require('fs').writeFileSync('${marker}', 'x')"` },
    }),
    'vendor/tiny-label/index.js': "export const shout = (s) => s.toUpperCase() + '!'\n",
  })
  execFileSync(
    'npm',
    ['install', '--package-lock-only', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'],
    {
      cwd: repo.work,
      stdio: 'ignore',
    },
  )
  repo.commit('plugin with a dependency')
  repo.tag('v1.0.0')
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe.each(backends)('publish with dependencies on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  beforeAll(async () => {
    db = await backend.open()
  })
  afterAll(async () => {
    await db.close()
  })

  it('installs from the lockfile without running install scripts, and bundles the dependency', async () => {
    const reg = await testRegistry(db.sql)
    try {
      const steps: string[] = []
      const res = await reg.publish(
        { repo: repo.fileUrl, ref: 'v1.0.0' },
        { onProgress: (p) => steps.push(p.step) },
      )
      expect(steps).toEqual(['clone', 'manifest', 'install', 'build', 'sign'])
      expect(res.timings.installMs).toBeGreaterThan(0)
      const { bytes } = await reg.getArtifact(res.version.name, '1.0.0')
      const text = Buffer.from(bytes).toString('utf8')
      expect(text).toContain('toUpperCase()')
      const global: Record<string, unknown> = {}
      runInNewContext(text, global)
      const plugin = (
        global.__stavilyPlugin as { default: { run(ctx: unknown, i: { s: string }): Promise<{ s: string }> } }
      ).default
      expect(await plugin.run({}, { s: 'hi' })).toEqual({ s: 'HI!' })
      expect(existsSync(marker)).toBe(false)
    } finally {
      await dropSchema(db.sql, reg.schema)
    }
  })
})
