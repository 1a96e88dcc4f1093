import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TEMPLATES_ROOT } from './run-cli.js'
import { mustRun } from './sdk-tarball.js'

const REPO_ROOT = join(TEMPLATES_ROOT, '..')
const TIMEOUT = 180_000

let workDir: string
let tarball: string

/**
 * The package as npm would publish it: built by its tsup config (into a copy, so a parallel
 * test run never sees templates/dist half-written) and packed with `npm pack`, so `files`,
 * the bin's shebang and the template lookup from dist/ are what is tested.
 */
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'create-stavily-plugin-packed-'))
  const packageDir = join(workDir, 'package')
  await mkdir(packageDir)
  for (const entry of await readdir(TEMPLATES_ROOT)) {
    if (entry === 'package.json' || entry === 'README.md' || entry.startsWith('template-')) {
      await cp(join(TEMPLATES_ROOT, entry), join(packageDir, entry), { recursive: true })
    }
  }
  await mustRun(join(REPO_ROOT, 'node_modules', '.bin', 'tsup'), ['--out-dir', join(packageDir, 'dist')], {
    cwd: TEMPLATES_ROOT,
    timeoutMs: TIMEOUT,
  })
  await mustRun('npm', ['pack', '--ignore-scripts', '--pack-destination', workDir], {
    cwd: packageDir,
    timeoutMs: TIMEOUT,
  })
  const name = (await readdir(workDir)).find((file) => file.endsWith('.tgz'))
  if (!name) throw new Error('npm pack wrote no tarball')
  tarball = join(workDir, name)
}, TIMEOUT)

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true })
})

describe('the packed create-stavily-plugin, run as `npm create` runs it', () => {
  it(
    'installs from its tarball and scaffolds through its bin',
    async () => {
      const cwd = join(workDir, 'user')
      await mkdir(cwd)
      // `npm create stavily-plugin` is `npm exec create-stavily-plugin`; --package points it at the tarball.
      const result = await mustRun(
        'npm',
        [
          'exec',
          '--yes',
          `--package=${tarball}`,
          '--',
          'create-stavily-plugin',
          'packed',
          '--kind',
          'output',
          '--yes',
        ],
        { cwd, timeoutMs: TIMEOUT },
      )
      expect(result.stdout).toContain('Created the output plugin packed')
      expect(result.stdout).toContain('npm install')
      const files = await readdir(join(cwd, 'packed'), { recursive: true })
      expect(files).toEqual(expect.arrayContaining(['.gitignore', 'build.mjs', join('src', 'index.test.ts')]))
      expect(files).not.toContain('_gitignore')
      const pkg = JSON.parse(await readFile(join(cwd, 'packed', 'package.json'), 'utf8'))
      expect(pkg).toMatchObject({ name: 'packed', stavily: { kind: 'output' } })
    },
    TIMEOUT,
  )
})
