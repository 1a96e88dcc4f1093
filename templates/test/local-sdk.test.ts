import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkoutSdk, resolveSdkSource, vendorSdk } from '../src/local-sdk.js'

// Where a new project's @stavily/sdk comes from: --sdk npm|PATH|TARBALL, or this checkout's.

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'create-stavily-plugin-sdk-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('--sdk', () => {
  it("defaults to this checkout's SDK when run from it, and npm on request", () => {
    expect(checkoutSdk()).toMatch(/sdk\/$/)
    expect(resolveSdkSource(undefined, dir)).toEqual({ kind: 'folder', path: checkoutSdk() })
    expect(resolveSdkSource('npm', dir)).toEqual({ kind: 'npm' })
  })

  it('refuses a missing path, a file that is not a tarball, and a folder of another package', async () => {
    expect(() => resolveSdkSource('nowhere', dir)).toThrow('--sdk nowhere: no such file or folder')
    writeFileSync(join(dir, 'sdk.zip'), '')
    expect(() => resolveSdkSource('sdk.zip', dir)).toThrow(
      'expected a folder or a .tgz tarball of @stavily/sdk',
    )
    mkdirSync(join(dir, 'other'))
    writeFileSync(join(dir, 'other', 'package.json'), '{"name":"left-pad"}')
    const other = resolveSdkSource('other', dir)
    await expect(vendorSdk(join(dir, 'project'), other)).rejects.toThrow('names left-pad, not @stavily/sdk')
  })

  it('copies a tarball into vendor/ and answers the file: dependency', async () => {
    writeFileSync(join(dir, 'stavily-sdk-9.9.9.tgz'), 'tarball bytes')
    const spec = await vendorSdk(join(dir, 'p2'), resolveSdkSource('stavily-sdk-9.9.9.tgz', dir))
    expect(spec).toBe('file:vendor/stavily-sdk-9.9.9.tgz')
  })
})

describe("the generated project's .gitignore", () => {
  it('keeps the vendored SDK tarball in the project (git add . takes it), other tarballs out', async () => {
    const { execFileSync, spawnSync } = await import('node:child_process')
    const { copyFileSync } = await import('node:fs')
    for (const kind of ['action', 'sensor', 'output']) {
      const repo = join(dir, `ignore-${kind}`)
      mkdirSync(repo)
      copyFileSync(new URL(`../template-${kind}/_gitignore`, import.meta.url), join(repo, '.gitignore'))
      execFileSync('git', ['init', '-q'], { cwd: repo })
      const ignored = (path: string) =>
        spawnSync('git', ['check-ignore', '-q', path], { cwd: repo }).status === 0
      expect(ignored('vendor/stavily-sdk-0.1.0.tgz'), kind).toBe(false)
      expect(ignored('my-plugin-0.1.0.tgz'), kind).toBe(true)
      expect(ignored('dist/plugin.js'), kind).toBe(true)
    }
  })
})
