import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createContext, runInContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PLUGIN_KINDS } from '../src/plugin-kind.js'
import { cleanEnv, run, runCli } from './run-cli.js'
import { mustRun, packSdk } from './sdk-tarball.js'

// A real `npm install` (typescript, vitest, esbuild from the registry or npm's cache), then
// the project's own tests, type check and build: minutes on a shared 2-core machine.
const PROJECT_TIMEOUT = 5 * 60_000
const HANDLERS = { action: 'run', sensor: 'check', output: 'send' } as const

let workDir: string
let sdkTarball: string
/** Installed projects by kind, for the checks below that break one on purpose. */
const installed = new Map<string, string>()

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'create-stavily-plugin-e2e-'))
  sdkTarball = await packSdk(workDir)
}, PROJECT_TIMEOUT)

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true })
})

describe('a generated project, installed against this repository’s SDK', () => {
  for (const kind of PLUGIN_KINDS) {
    it(
      `${kind}: npm install, npm test, npm run typecheck and npm run build pass, and the bundle loads in an empty global`,
      async () => {
        const name = `e2e-${kind}`
        // --sdk: this build of the SDK, vendored into the project, instead of the npm range.
        const created = await runCli([name, '--kind', kind, '--yes', '--sdk', sdkTarball], { cwd: workDir })
        expect(created.code, created.stderr).toBe(0)
        const dir = join(workDir, name)
        const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
        expect(pkg.dependencies['@stavily/sdk']).toMatch(/^file:vendor\/stavily-sdk-[\d.]+\.tgz$/)

        const step = { cwd: dir, timeoutMs: PROJECT_TIMEOUT }
        await mustRun('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], step)
        const tested = await mustRun('npm', ['test'], step)
        expect(tested.stdout).toMatch(/Tests\s+\d+ passed/)
        await mustRun('npm', ['run', 'typecheck'], step)
        const built = await mustRun('npm', ['run', 'build'], step)
        expect(built.stdout).toContain(`built dist/plugin.js: ${kind} plugin ${name}@0.1.0`)

        // The sandbox's view: an empty ECMAScript global, no Node (process, require, timers).
        const bundle = await readFile(join(dir, 'dist', 'plugin.js'), 'utf8')
        const context = createContext({})
        runInContext(bundle, context, { timeout: 5000 })
        expect(runInContext('typeof process + typeof require + typeof setTimeout', context)).toBe(
          'undefinedundefinedundefined',
        )
        const definition = runInContext('globalThis.__stavilyPlugin.default', context)
        expect(definition.kind).toBe(kind)
        expect(definition.sdkApiVersion).toMatch(/^1\./)
        expect(typeof definition[HANDLERS[kind]]).toBe('function')
        installed.set(kind, dir)
      },
      PROJECT_TIMEOUT,
    )
  }

  it(
    'its build and type check refuse what the sandbox cannot run, naming the cause',
    async () => {
      const dir = installed.get('action')
      if (!dir) throw new Error('the action project was not installed; see the test above')
      const source = join(dir, 'src', 'index.ts')
      const original = await readFile(source, 'utf8')
      const step = { cwd: dir, env: cleanEnv({ NO_COLOR: '1' }), timeoutMs: PROJECT_TIMEOUT }

      // A Node built-in: no such module in the sandbox.
      await writeFile(
        source,
        `import { hostname } from 'node:os'\n${original}\nexport const host = hostname()\n`,
      )
      const nodeImport = await run('npm', ['run', 'build'], step)
      expect(nodeImport.code).not.toBe(0)
      expect(nodeImport.stderr).toContain('node:os')

      // A Node/browser global: a compile error, since tsconfig.json leaves their types out.
      await writeFile(source, `${original}\nsetTimeout(() => {}, 1)\n`)
      const global = await run('npm', ['run', 'typecheck'], step)
      expect(global.code).not.toBe(0)
      expect(global.stdout).toContain("Cannot find name 'setTimeout'")

      // A manifest the registry would reject: every problem, with its field path.
      await writeFile(source, original)
      const pkgPath = join(dir, 'package.json')
      const pkg = JSON.parse(await readFile(pkgPath, 'utf8'))
      pkg.stavily.permissions.net = ['https://api.example.com']
      await writeFile(pkgPath, JSON.stringify(pkg, null, 2))
      const manifest = await run('npm', ['run', 'build'], step)
      expect(manifest.code).not.toBe(0)
      expect(manifest.stderr).toContain('package.json stavily.permissions.net[0]')
    },
    PROJECT_TIMEOUT,
  )
})
