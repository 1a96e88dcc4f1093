import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SDK_API_RANGE, SDK_PACKAGE_RANGE } from '../src/sdk-version.js'
import { cleanEnv, runCli, runCliOnTerminal } from './run-cli.js'

// Each run spawns node with tsx; on a busy 2-core machine that takes a few seconds.
const CLI_TIMEOUT = 60_000
const ANSI_ESCAPE = '\u001b['

let cwd: string
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'create-stavily-plugin-'))
})
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true })
})

async function readJson(path: string) {
  return JSON.parse(await readFile(path, 'utf8'))
}

describe('create-stavily-plugin (as a separate process, stdin not a terminal)', () => {
  for (const kind of ['action', 'sensor', 'output'] as const) {
    it(
      `scaffolds the ${kind} template from flags alone`,
      async () => {
        const name = `my-${kind}-plugin`
        const result = await runCli([name, '--kind', kind, '--description', `Does ${kind} things`, '--yes'], {
          cwd,
        })
        expect(result.stderr).toBe('')
        expect(result.code).toBe(0)

        const dir = join(cwd, name)
        const files = await readdir(dir, { recursive: true })
        expect(files).toEqual(
          expect.arrayContaining([
            '.gitignore',
            'README.md',
            'build.mjs',
            'package.json',
            'tsconfig.json',
            join('src', 'index.ts'),
            join('src', 'index.test.ts'),
          ]),
        )
        expect(files).not.toContain('_gitignore')
        expect(await readFile(join(dir, '.gitignore'), 'utf8')).toMatch(/^node_modules\/$/m)

        const pkg = await readJson(join(dir, 'package.json'))
        expect(pkg).toMatchObject({
          name,
          version: '0.1.0',
          description: `Does ${kind} things`,
          type: 'module',
          stavily: { kind, entry: 'src/index.ts', sdk: SDK_API_RANGE },
          dependencies: { '@stavily/sdk': SDK_PACKAGE_RANGE },
          scripts: { test: 'vitest run', build: 'node build.mjs', typecheck: 'tsc --noEmit' },
        })

        const readme = await readFile(join(dir, 'README.md'), 'utf8')
        expect(readme.split('\n').slice(0, 3)).toEqual([`# ${name}`, '', `Does ${kind} things`])
        expect(readme).not.toMatch(/stavily-\w+-example/)
        expect(readme).toContain('stavily plugin publish --repo <git-url>')

        for (const step of [`cd ${name}`, 'npm install', 'npm test', 'npm run build']) {
          expect(result.stdout).toContain(step)
        }
        // Not a terminal: plain text only, so logs and CI output stay readable.
        expect(result.stdout).not.toContain(ANSI_ESCAPE)
      },
      CLI_TIMEOUT,
    )
  }

  it(
    'puts a scoped package in a folder named after its unscoped part',
    async () => {
      const result = await runCli(['@acme/stavily-plugin-restart', '--kind', 'action', '--yes'], { cwd })
      expect(result.code).toBe(0)
      expect(await readdir(cwd)).toEqual(['stavily-plugin-restart'])
      const pkg = await readJson(join(cwd, 'stavily-plugin-restart', 'package.json'))
      expect(pkg.name).toBe('@acme/stavily-plugin-restart')
      expect(pkg.description).toBe('A Stavily action plugin')
      expect(result.stdout).toContain('cd stavily-plugin-restart')
    },
    CLI_TIMEOUT,
  )

  it(
    'takes defaults with --yes alone: an action plugin with a generic description',
    async () => {
      const result = await runCli(['plain', '--yes'], { cwd })
      expect(result.code).toBe(0)
      const pkg = await readJson(join(cwd, 'plain', 'package.json'))
      expect(pkg.stavily.kind).toBe('action')
      expect(pkg.description).toBe('A Stavily action plugin')
    },
    CLI_TIMEOUT,
  )

  it(
    'scaffolds into the current folder with ".", named after the folder',
    async () => {
      const here = join(cwd, 'url-watch')
      await mkdir(join(here, '.git'), { recursive: true })
      const result = await runCli(['.', '--kind', 'sensor', '--yes'], { cwd: here })
      expect(result.code).toBe(0)
      expect((await readJson(join(here, 'package.json'))).name).toBe('url-watch')
      expect(result.stdout).not.toContain('cd ')
    },
    CLI_TIMEOUT,
  )

  it(
    'explains that "." takes the folder name when that name is not a valid package name',
    async () => {
      const here = join(cwd, 'My Plugins')
      await mkdir(here)
      const result = await runCli(['.', '--kind', 'action', '--yes'], { cwd: here })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain(`the current folder's name is used as the package name`)
      expect(result.stderr).toContain('"My Plugins" is not a valid npm package name')
      expect(await readdir(here)).toEqual([])
    },
    CLI_TIMEOUT,
  )

  it(
    'rejects an invalid name with the reasons and an example, and writes nothing',
    async () => {
      const result = await runCli(['My Plugin!', '--kind', 'action', '--yes'], { cwd })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain('"My Plugin!" is not a valid npm package name')
      expect(result.stderr).toContain('uppercase')
      expect(result.stderr).toContain('"my-plugin"')
      expect(await readdir(cwd)).toEqual([])
    },
    CLI_TIMEOUT,
  )

  it(
    'refuses a folder that is not empty, and leaves it as it was',
    async () => {
      await mkdir(join(cwd, 'taken'))
      await writeFile(join(cwd, 'taken', 'notes.txt'), 'mine')
      const result = await runCli(['taken', '--kind', 'output', '--yes'], { cwd })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain('taken is not empty (it holds notes.txt)')
      expect(result.stderr).toContain('Nothing was written')
      expect(await readdir(join(cwd, 'taken'))).toEqual(['notes.txt'])
      expect(await readFile(join(cwd, 'taken', 'notes.txt'), 'utf8')).toBe('mine')
    },
    CLI_TIMEOUT,
  )

  it(
    'fails at once, rather than waiting for answers, when --kind is missing and stdin is not a terminal',
    async () => {
      // stdin stays open: a CLI that tried to read from it would hang until the helper's timeout.
      const result = await runCli(['waiting'], { cwd, input: null })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain('--kind not given and stdin is not a terminal')
      expect(result.stderr).toContain('--kind action --yes')
      expect(await readdir(cwd)).toEqual([])
    },
    CLI_TIMEOUT,
  )

  it(
    'needs no --yes when the flags already say everything',
    async () => {
      const result = await runCli(['flagged', '--kind', 'sensor'], { cwd, input: null })
      expect(result.code).toBe(0)
      expect((await readJson(join(cwd, 'flagged', 'package.json'))).stavily.kind).toBe('sensor')
    },
    CLI_TIMEOUT,
  )

  it(
    'names the bad value and the valid kinds for an unknown --kind',
    async () => {
      const result = await runCli(['x', '--kind', 'trigger', '--yes'], { cwd })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain(
        '--kind: "trigger" is not a plugin kind; use one of sensor, action, output',
      )
      expect(await readdir(cwd)).toEqual([])
    },
    CLI_TIMEOUT,
  )

  it(
    'names an unknown option and points to --help',
    async () => {
      const result = await runCli(['x', '--knd', 'action'], { cwd })
      expect(result.code).not.toBe(0)
      expect(result.stderr).toContain("'--knd'")
      expect(result.stderr).toContain('--help')
      expect(await readdir(cwd)).toEqual([])
    },
    CLI_TIMEOUT,
  )

  it(
    'rejects a multi-line or empty description',
    async () => {
      const empty = await runCli(['x', '--kind', 'action', '--description', '  ', '--yes'], { cwd })
      expect(empty.code).not.toBe(0)
      expect(empty.stderr).toContain('--description: is empty')
      const multi = await runCli(['x', '--kind', 'action', '--description', 'a\nb', '--yes'], { cwd })
      expect(multi.stderr).toContain('--description: must be a single line')
      expect(await readdir(cwd)).toEqual([])
    },
    CLI_TIMEOUT,
  )

  it(
    'prints usage for --help and writes nothing',
    async () => {
      const result = await runCli(['--help'], { cwd })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('Usage: npm create stavily-plugin@latest <name>')
      expect(result.stdout).toContain('--kind <kind>')
      expect(await readdir(cwd)).toEqual([])
    },
    CLI_TIMEOUT,
  )

  it(
    'uses the package manager that ran it in the next steps',
    async () => {
      const env = { npm_config_user_agent: 'pnpm/9.12.0 npm/? node/v20.20.0 linux x64' }
      const result = await runCli(['pm', '--kind', 'action', '--yes'], { cwd, env: cleanEnv(env) })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('pnpm install')
      expect(result.stdout).toContain('pnpm build')
    },
    CLI_TIMEOUT,
  )
})

describe('create-stavily-plugin on a terminal', () => {
  it(
    'asks for the name, the kind and the description, in colour',
    async () => {
      const result = await runCliOnTerminal([], { cwd, answers: ['tty-plugin', '3', 'Sends things'] })
      expect(result.code).toBe(0)
      expect(result.stdout).toContain('Plugin name (stavily-plugin):')
      expect(result.stdout).toContain('3. output  delivers a workflow result somewhere')
      expect(result.stdout).toContain('Description (A Stavily output plugin):')
      expect(result.stdout).toContain(ANSI_ESCAPE)
      const pkg = await readJson(join(cwd, 'tty-plugin', 'package.json'))
      expect(pkg).toMatchObject({
        name: 'tty-plugin',
        description: 'Sends things',
        stavily: { kind: 'output' },
      })
    },
    CLI_TIMEOUT,
  )

  it(
    'asks only what the flags left open, explains a wrong answer, and has no colour under NO_COLOR',
    async () => {
      const result = await runCliOnTerminal(['asked', '--description', 'Watches things'], {
        cwd,
        answers: ['trigger', 'sensor'],
        env: cleanEnv({ NO_COLOR: '1' }),
      })
      expect(result.code).toBe(0)
      expect(result.stdout).not.toContain('Plugin name')
      expect(result.stdout).not.toContain('Description (')
      expect(result.stdout).toContain('"trigger" is not a plugin kind')
      expect(result.stdout).not.toContain(ANSI_ESCAPE)
      const pkg = await readJson(join(cwd, 'asked', 'package.json'))
      expect(pkg).toMatchObject({ description: 'Watches things', stavily: { kind: 'sensor' } })
    },
    CLI_TIMEOUT,
  )

  it(
    'stops on Ctrl-C with exit code 130 and writes nothing',
    async () => {
      const result = await runCliOnTerminal([], { cwd, answers: ['\u0003'], waitFor: 'Plugin name' })
      expect(result.code).toBe(130)
      expect(result.stdout).toContain('cancelled; nothing was written')
      expect(await readdir(cwd)).toEqual([])
    },
    CLI_TIMEOUT,
  )

  it(
    'checks the folder before asking anything',
    async () => {
      await mkdir(join(cwd, 'busy'))
      await writeFile(join(cwd, 'busy', 'x'), '')
      const result = await runCliOnTerminal(['busy'], { cwd, answers: [] })
      expect(result.code).not.toBe(0)
      expect(result.stdout).toContain('busy is not empty')
      expect(result.stdout).not.toContain('Kind of plugin')
    },
    CLI_TIMEOUT,
  )
})
