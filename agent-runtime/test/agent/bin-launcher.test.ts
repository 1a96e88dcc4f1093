import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'

// The launcher npm links as `stavily-agent` (bin/stavily-agent.js): committed, so
// `npm install` in a fresh clone links node_modules/.bin/stavily-agent before anything is
// built (the docs start agents with it); it loads dist/agent.js.

const PKG = fileURLToPath(new URL('../../', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'))
const env = { ...process.env, NODE_OPTIONS: '' }

describe('node_modules/.bin/stavily-agent in this repository', () => {
  it('is the committed launcher, with the same Node flags as the built agent', () => {
    expect(pkg.bin).toEqual({ 'stavily-agent': './bin/stavily-agent.js' })
    const firstLine = (path: string) => readFileSync(path, 'utf8').split('\n')[0]
    expect(firstLine(join(PKG, 'bin/stavily-agent.js'))).toBe(firstLine(join(PKG, 'dist/agent.js')))
  })

  it('is linked by npm install and runs the built agent', () => {
    const bin = join(ROOT, 'node_modules/.bin/stavily-agent')
    expect(existsSync(bin)).toBe(true)
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', env, cwd: ROOT })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout.trim()).toBe(pkg.version)
  })

  it('says how to build when dist/agent.js is missing, instead of a module-not-found trace', () => {
    const dir = tempDir('agent-bin-unbuilt')
    mkdirSync(join(dir, 'bin'))
    copyFileSync(join(PKG, 'bin/stavily-agent.js'), join(dir, 'bin/stavily-agent.js'))
    const r = spawnSync(process.execPath, [join(dir, 'bin/stavily-agent.js'), '--version'], {
      encoding: 'utf8',
      env,
    })
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('the agent is not built yet: run `npm run build`')
  })
})
