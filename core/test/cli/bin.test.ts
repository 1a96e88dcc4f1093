import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'

// The `stavily` bin as npm installs it: src/cli/main.ts bundled the way tsup builds
// dist/cli.js (ESM, node20, packages external), run directly through its #! line on
// this Node without --no-node-snapshot (the CLI never loads isolated-vm).

const CORE = fileURLToPath(new URL('../../', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const OUT = `${CORE}dist/cli-test-${randomBytes(4).toString('hex')}`
const pkg = JSON.parse(readFileSync(`${CORE}package.json`, 'utf8'))

beforeAll(async () => {
  await build({
    entryPoints: { cli: `${CORE}src/cli/main.ts` },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir: OUT,
    logLevel: 'silent',
  })
  chmodSync(`${OUT}/cli.js`, 0o755)
})

afterAll(() => {
  rmSync(OUT, { recursive: true, force: true })
})

describe('the stavily bin', () => {
  it('is declared in package.json and starts with a #! line', () => {
    expect(pkg.bin).toEqual({ stavily: './bin/stavily.js' })
    expect(readFileSync(`${OUT}/cli.js`, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node')
  })

  it('runs as an executable: version, help, and a usage error exit code', () => {
    const env = { ...process.env, NODE_OPTIONS: '' }
    const v = spawnSync(`${OUT}/cli.js`, ['--version'], { encoding: 'utf8', env })
    expect(v.status).toBe(0)
    expect(v.stdout).toBe(`stavily ${pkg.version}\n`)
    const help = spawnSync(`${OUT}/cli.js`, ['workflow', '--help'], { encoding: 'utf8', env })
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('workflow apply')
    const bad = spawnSync(`${OUT}/cli.js`, ['agent', 'tokn'], { encoding: 'utf8', env })
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('did you mean "token"?')
  })
})

// The launcher npm links (bin/stavily.js): committed, so `npm install` in a fresh clone
// links node_modules/.bin/stavily before anything is built; it loads dist/cli.js.
describe('node_modules/.bin/stavily in this repository', () => {
  const env = { ...process.env, NODE_OPTIONS: '' }

  it('is linked by npm install and runs the built CLI (as the docs and the dev banner say)', () => {
    const bin = join(ROOT, 'node_modules/.bin/stavily')
    expect(existsSync(bin)).toBe(true)
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8', env, cwd: ROOT })
    expect(help.stderr).toBe('')
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('usage: stavily <command>')
  })

  it('says how to build when dist/cli.js is missing, instead of a module-not-found trace', () => {
    const pkgDir = tempDir('bin-unbuilt')
    mkdirSync(join(pkgDir, 'bin'))
    copyFileSync(join(CORE, 'bin/stavily.js'), join(pkgDir, 'bin/stavily.js'))
    const r = spawnSync(process.execPath, [join(pkgDir, 'bin/stavily.js'), '--help'], {
      encoding: 'utf8',
      env,
    })
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('the CLI is not built yet: run `npm run build`')
  })
})
