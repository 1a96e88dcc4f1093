import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runPluginVerify } from '../src/client/verify-command.ts'
import type { Registry } from '../src/registry.ts'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { backends, dropSchema } from './helpers/backends.ts'
import { serveRegistry } from './helpers/http-server.ts'
import { pluginFiles } from './helpers/plugin-fixtures.ts'
import { testRegistry } from './helpers/registry.ts'
import { TestRepo } from './helpers/repos.ts'

// `stavily plugin verify`, run as the CLI runs it: argv in, text out, an exit code back.

const root = mkdtempSync(join(tmpdir(), 'stavily-verify-cmd-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function io() {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env: {} } }
}

describe.each(backends)('runPluginVerify against a registry on $name', (backend) => {
  let db: { sql: SqlClient; close(): Promise<void> }
  let reg: Registry
  let server: { app: FastifyInstance; baseUrl: string }
  let rootFile: string
  beforeAll(async () => {
    db = await backend.open()
    reg = await testRegistry(db.sql)
    const repo = new TestRepo(root, `plugin-${backend.name}`)
    repo.write(pluginFiles({ version: '2.0.0' })).commit()
    repo.tag('v2.0.0')
    await reg.publish({ repo: repo.fileUrl, ref: 'v2.0.0' })
    server = await serveRegistry(reg)
    rootFile = join(root, `root-${backend.name}.json`)
    writeFileSync(rootFile, await reg.trustedRoot())
  })
  afterAll(async () => {
    await server?.app.close()
    await dropSchema(db.sql, reg.schema)
    await db.close()
  })

  it('verifies name@version and prints what was signed', async () => {
    const t = io()
    const cache = join(root, `cache-a-${backend.name}`)
    const code = await runPluginVerify(
      [
        '@acme/stavily-plugin-restart@2.0.0',
        '--registry',
        server.baseUrl,
        '--root',
        rootFile,
        '--cache',
        cache,
      ],
      t.io,
    )
    expect(t.err.join('')).toBe('')
    expect(code).toBe(0)
    expect(t.out.join('')).toMatch(/^verified @acme\/stavily-plugin-restart@2\.0\.0\n/)
    expect(t.out.join('')).toMatch(/exec\s+systemctl/)
    // Later runs need no --root: the cache holds the trusted root.
    const again = io()
    expect(
      await runPluginVerify(
        ['@acme/stavily-plugin-restart@2.0.0', '--registry', server.baseUrl, '--cache', cache, '--json'],
        again.io,
      ),
    ).toBe(0)
    expect(JSON.parse(again.out.join(''))).toMatchObject({
      ok: true,
      target: { version: '2.0.0', kind: 'action' },
    })
  })

  it('identifies a local file by its digest, and refuses a modified one', async () => {
    const { bytes } = await reg.getArtifact('@acme/stavily-plugin-restart', '2.0.0')
    const good = join(root, `good-${backend.name}.js`)
    const bad = join(root, `bad-${backend.name}.js`)
    writeFileSync(good, bytes)
    writeFileSync(bad, Buffer.concat([Buffer.from(bytes), Buffer.from('\n// extra')]))
    const env = {
      STAVILY_REGISTRY_URL: server.baseUrl,
      STAVILY_TRUSTED_ROOT: rootFile,
      STAVILY_TUF_CACHE: join(root, `cache-b-${backend.name}`),
    }
    const ok = io()
    expect(await runPluginVerify([good], { ...ok.io, env })).toBe(0)
    expect(ok.out.join('')).toContain('verified @acme/stavily-plugin-restart@2.0.0')
    const no = io()
    expect(await runPluginVerify([bad], { ...no.io, env })).toBe(1)
    expect(no.err.join('')).toMatch(
      /^refused: .*bad-.*\.js \(sha256 [0-9a-f]{64}\) is not a signed artifact of /,
    )
  })

  it('exits 1 for a version that is not signed, and 2 for usage errors', async () => {
    const missing = io()
    const args = [
      '--registry',
      server.baseUrl,
      '--root',
      rootFile,
      '--cache',
      join(root, `cache-c-${backend.name}`),
    ]
    expect(await runPluginVerify(['@acme/stavily-plugin-restart@9.9.9', ...args], missing.io)).toBe(1)
    expect(missing.err.join('')).toMatch(/is not among the registry's signed targets/)
    const usage = io()
    expect(await runPluginVerify([], usage.io)).toBe(2)
    expect(usage.err.join('')).toMatch(/missing <file\|name@version>/)
    const noRoot = io()
    expect(
      await runPluginVerify(
        ['x@1.0.0', '--registry', server.baseUrl, '--cache', join(root, 'empty')],
        noRoot.io,
      ),
    ).toBe(2)
    expect(noRoot.err.join('')).toMatch(/no trusted root yet/)
  })
})
