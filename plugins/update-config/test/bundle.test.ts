// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts) on real files, with a real validator (node parsing JSON) and a real
// reload: a loopback HTTP server, reached with curl, that reads the file when asked to reload.
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  callIds,
  inSandbox,
  itBundlesForTheSandbox,
  type LoopbackServer,
  loopbackServer,
} from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

const dir = join('/tmp/stavily', `update-config-${process.pid}-${randomBytes(3).toString('hex')}`)
const file = join(dir, 'app.json')
const grants = {
  exec: ['node', 'curl', 'chmod', 'chown', 'mv', 'rm'],
  net: [],
  fs: { read: [dir], write: [dir] },
}
/** Exits non-zero unless the file named by its argument is JSON. */
const VALIDATE = ['node', '-e', 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))', '{file}']

let service: LoopbackServer
/** What the service read at each reload; answer with reloadStatus. */
const reloads: string[] = []
let reloadStatus = 200

beforeAll(async () => {
  mkdirSync(dir, { recursive: true })
  service = await loopbackServer((_req, res) => {
    reloads.push(readFileSync(file, 'utf8'))
    res.writeHead(reloadStatus).end()
  })
})
afterAll(async () => {
  await service.close()
  rmSync(dir, { recursive: true, force: true })
})

const reload = () => ['curl', '-sf', '-X', 'POST', `${service.url}/reload`]
const invoke = (config: Record<string, unknown>, content: string) => ({
  ...callIds(),
  config,
  input: { content },
})
const mode = (path: string) => statSync(path).mode & 0o777
/** Files the plugin may have left in the folder (temporary files start with .stavily-). */
const leftovers = () => readdirSync(dir).filter((f) => f.startsWith('.stavily-'))

describe('update-config bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'action')

  it('replaces the file atomically keeping its mode, keeps the previous version, validates, reloads, and does nothing the second time', async () => {
    writeFileSync(file, '{\n  "workers": 4\n}\n', { mode: 0o640 })
    reloads.length = 0
    const config = { path: file, validate: VALIDATE, reload: reload() }
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const next = '{\n  "workers": 8\n}\n'
      const r = await sandbox.invoke(name, invoke(config, next))
      expect(r.output).toMatchObject({
        path: file,
        changed: true,
        created: false,
        previous: `${file}.previous`,
        validated: true,
        reloaded: true,
        diff: `--- ${file}\n+++ ${file}\n@@ -1,3 +1,3 @@\n {\n-  "workers": 4\n+  "workers": 8\n }\n`,
      })
      expect(readFileSync(file, 'utf8')).toBe(next)
      expect(mode(file)).toBe(0o640)
      expect(readFileSync(`${file}.previous`, 'utf8')).toBe('{\n  "workers": 4\n}\n')
      expect(mode(`${file}.previous`)).toBe(0o640)
      // The service reloaded once, and read the new file when it did.
      expect(reloads).toEqual([next])

      const again = await sandbox.invoke(name, invoke(config, next))
      expect(again.output).toMatchObject({ changed: false, diff: '', validated: false, reloaded: false })
      expect(reloads).toHaveLength(1)
      expect(leftovers()).toEqual([])
    })
  }, 60_000)

  it('refuses content the validator rejects and leaves the file as it was, without reloading', async () => {
    writeFileSync(file, '{"workers": 4}\n', { mode: 0o600 })
    reloads.length = 0
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      await expect(
        sandbox.invoke(name, invoke({ path: file, validate: VALIDATE, reload: reload() }, '{"workers": ')),
      ).rejects.toMatchObject({
        code: 'UPDATE_CONFIG_INVALID',
        message: expect.stringMatching(
          /^validate \(node\) exited with code 1: .*SyntaxError.*the new content was not installed$/s,
        ),
      })
      expect(readFileSync(file, 'utf8')).toBe('{"workers": 4}\n')
      expect(reloads).toEqual([])
      expect(leftovers()).toEqual([])
    })
  }, 60_000)

  it('rolls back when the validator of the installed file rejects it', async () => {
    writeFileSync(file, '{"workers": 4}\n')
    // Without {file}, the validator checks the file in place (as `nginx -t` checks its tree).
    const inPlace = ['node', '-e', 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))', file]
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      await expect(
        sandbox.invoke(name, invoke({ path: file, validate: inPlace }, 'not json\n')),
      ).rejects.toMatchObject({
        code: 'UPDATE_CONFIG_INVALID',
        message: expect.stringContaining('the previous content was put back'),
      })
      expect(readFileSync(file, 'utf8')).toBe('{"workers": 4}\n')
      expect(leftovers()).toEqual([])
    })
  }, 60_000)

  it('rolls back when the reload fails, and reloads the previous content', async () => {
    writeFileSync(file, '{"workers": 4}\n')
    reloads.length = 0
    reloadStatus = 500
    try {
      await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
        await expect(
          sandbox.invoke(
            name,
            invoke({ path: file, validate: VALIDATE, reload: reload() }, '{"workers": 99}\n'),
          ),
        ).rejects.toMatchObject({ code: 'UPDATE_CONFIG_RELOAD_FAILED', retryable: false })
      })
    } finally {
      reloadStatus = 200
    }
    expect(readFileSync(file, 'utf8')).toBe('{"workers": 4}\n')
    // The failed reload saw the new file; the second one, after the rollback, the previous.
    expect(reloads).toEqual(['{"workers": 99}\n', '{"workers": 4}\n'])
  }, 60_000)

  it('creates a missing file with the configured mode, and writes nothing outside the grant', async () => {
    const created = join(dir, 'new.json')
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const r = await sandbox.invoke(name, invoke({ path: created, mode: '0600' }, '{}\n'))
      expect(r.output).toMatchObject({
        created: true,
        changed: true,
        previous: null,
        diff: expect.stringContaining('--- /dev/null'),
      })
      expect(mode(created)).toBe(0o600)
      await expect(
        sandbox.invoke(name, invoke({ path: '/tmp/stavily/elsewhere.json' }, '{}\n')),
      ).rejects.toMatchObject({ code: 'STAVILY_ERR_PERMISSION_DENIED' })
    })
  }, 60_000)
})
