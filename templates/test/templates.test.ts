import { execFile } from 'node:child_process'
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { PLUGIN_KINDS } from '../src/plugin-kind.js'
import { SDK_API_RANGE, SDK_PACKAGE_RANGE } from '../src/sdk-version.js'
import { cleanEnv, TEMPLATES_ROOT } from './run-cli.js'

/** Files every template carries unchanged; a fix to one must reach all three. */
const SHARED_FILES = ['build.mjs', 'tsconfig.json', '_gitignore']

async function readTemplateJson(kind: string) {
  return JSON.parse(await readFile(join(TEMPLATES_ROOT, `template-${kind}`, 'package.json'), 'utf8'))
}

describe('the template folders', () => {
  for (const kind of PLUGIN_KINDS) {
    it(`template-${kind} is a ${kind} project with the SDK ranges of sdk-version.ts`, async () => {
      const dir = join(TEMPLATES_ROOT, `template-${kind}`)
      const pkg = await readTemplateJson(kind)
      expect(pkg).toMatchObject({
        name: `stavily-${kind}-example`,
        version: '0.1.0',
        type: 'module',
        stavily: { kind, entry: 'src/index.ts', sdk: SDK_API_RANGE },
        dependencies: { '@stavily/sdk': SDK_PACKAGE_RANGE },
      })
      await access(join(dir, pkg.stavily.entry))
      await access(join(dir, 'src', 'index.test.ts'))
      // npm would drop a real .gitignore when publishing this package.
      await expect(access(join(dir, '.gitignore'))).rejects.toThrow()

      // customize.ts finds the title and description by these exact strings.
      const readme = await readFile(join(dir, 'README.md'), 'utf8')
      expect(readme.startsWith(`# ${pkg.name}\n\n${pkg.description}\n`)).toBe(true)
      expect(readme).toContain('stavily plugin publish --repo <git-url>')
    })
  }

  it('declare only the permissions their examples use', async () => {
    const permissions = Object.fromEntries(
      await Promise.all(
        PLUGIN_KINDS.map(async (kind) => [kind, (await readTemplateJson(kind)).stavily.permissions]),
      ),
    )
    expect(permissions).toEqual({
      action: { exec: ['systemctl'] },
      sensor: { net: ['status.example.com'] },
      output: { net: ['hooks.example.com'], secrets: ['WEBHOOK_TOKEN'] },
    })
  })

  it('share build.mjs, tsconfig.json, _gitignore, scripts and tool versions', async () => {
    for (const file of SHARED_FILES) {
      const [first, ...rest] = await Promise.all(
        PLUGIN_KINDS.map((kind) => readFile(join(TEMPLATES_ROOT, `template-${kind}`, file), 'utf8')),
      )
      for (const other of rest) expect(other, file).toBe(first)
    }
    const [first, ...rest] = await Promise.all(PLUGIN_KINDS.map(readTemplateJson))
    for (const other of rest) {
      expect(other.scripts).toEqual(first.scripts)
      expect(other.devDependencies).toEqual(first.devDependencies)
      expect(other.engines).toEqual(first.engines)
    }
  })

  it('are all in the published package, _gitignore included, and the CLI sources are not', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: TEMPLATES_ROOT,
      env: cleanEnv(),
    })
    const files: string[] = JSON.parse(stdout)[0].files.map((file: { path: string }) => file.path)
    for (const kind of PLUGIN_KINDS) {
      for (const file of ['_gitignore', 'README.md', 'build.mjs', 'package.json', 'tsconfig.json']) {
        expect(files).toContain(`template-${kind}/${file}`)
      }
      expect(files).toContain(`template-${kind}/src/index.ts`)
      expect(files).toContain(`template-${kind}/src/index.test.ts`)
    }
    expect(files.filter((file) => file.startsWith('src/') || file.startsWith('test/'))).toEqual([])
    expect(files.filter((file) => file.includes('node_modules'))).toEqual([])
  }, 60_000)
})
