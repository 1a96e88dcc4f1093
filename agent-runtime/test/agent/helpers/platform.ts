// An orchestrator (core's own test harness: PGlite + in-process fleet, and PostgreSQL +
// Redis when DATABASE_URL/REDIS_URL are set), a registry on the same database served on a
// loopback listener, and plugins published from a local Git repository.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { call, type Running } from '@stavily/core/testing'
import { createRegistry, type Registry, registryRoutes } from '@stavily/registry'
import { TestRepo } from '@stavily/registry/testing'
import { SDK_API_VERSION } from '@stavily/sdk'
import Fastify, { type FastifyInstance } from 'fastify'
import { runName } from '../../../../test/run-names.ts'

export { call, enqueue, setups, until } from '@stavily/core/testing'

const SDK_SOURCE = fileURLToPath(new URL('../../../../sdk/src/index.ts', import.meta.url))

export interface Platform {
  r: Running
  registry: Registry
  registryUrl: string
  root: string
  orgId: string
  /** Publishes `name@version` built from `source` through the Git path; returns its digest. */
  publish(
    name: string,
    version: string,
    source: string,
    o?: { kind?: string; permissions?: object },
  ): Promise<string>
  /** Puts name@version in the pool's desired set (what /agents/v1/plugins answers). */
  enable(pool: string, name: string, version: string): Promise<void>
  token(kind: 'sensor' | 'action', pool: string): Promise<string>
  close(): Promise<void>
}

export async function platform(r: Running): Promise<Platform> {
  const root = mkdtempSync(join(tmpdir(), 'stavily-agent-test-'))
  const sql = r.o.services.db.sql
  // Named for this test run, so the leak check sees it if close() is not called.
  const schema = runName('reg')
  const registry = await createRegistry({
    sql,
    schema,
    keysDir: join(root, 'keys'),
    build: { provided: { '@stavily/sdk': SDK_SOURCE } },
    // Plugins are published from local repositories (file://), which a registry refuses by default.
    remotes: { allowFile: true },
  })
  const app: FastifyInstance = Fastify({ logger: false })
  await app.register(registryRoutes, { prefix: '/registry', registry, authorize: async () => {} })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const org = await sql.query<{ id: string }>('SELECT id FROM organizations ORDER BY created_at LIMIT 1')
  const repos = new Map<string, TestRepo>()
  let closing: Promise<void> | undefined
  return {
    r,
    registry,
    registryUrl: `http://127.0.0.1:${port}/registry`,
    root,
    orgId: org.rows[0]!.id,
    async publish(name, version, source, o = {}) {
      const repoName = name.replace(/[^a-z0-9]+/gi, '-')
      let repo = repos.get(name)
      if (!repo) {
        repo = new TestRepo(root, repoName)
        repos.set(name, repo)
      }
      repo.write({
        'package.json': JSON.stringify({
          name,
          version,
          type: 'module',
          stavily: {
            kind: o.kind ?? 'action',
            entry: 'src/index.ts',
            sdk: `^${SDK_API_VERSION}`,
            permissions: o.permissions ?? {},
          },
          dependencies: { '@stavily/sdk': '^0.1.0' },
        }),
        'src/index.ts': source,
      })
      repo.commit(`${name} ${version}`)
      repo.tag(`v${version}`)
      const res = await registry.publish({ repo: repo.fileUrl, ref: `v${version}` })
      return res.version.digest
    },
    async enable(pool, name, version) {
      const v = await registry.version(name, version)
      await sql.query(
        `INSERT INTO desired_plugins (org_id, pool, name, version, digest, signature, permissions)
         VALUES ($1, $2, $3, $4, $5, '', $6)
         ON CONFLICT (org_id, pool, name) DO UPDATE SET version = $4, digest = $5, permissions = $6, updated_at = now()`,
        [org.rows[0]!.id, pool, name, version, v.digest, JSON.stringify(v.permissions)],
      )
    },
    async token(kind, pool) {
      const et = await call(r.operatorUrl, 'POST', '/api/v1/enrollment-tokens', {
        token: r.admin,
        body: { kind, pool },
      })
      if (et.status !== 201) throw new Error(`enrollment token: ${et.status} ${JSON.stringify(et.body)}`)
      return et.body.token as string
    },
    // Once only: a test may close the platform half-way (registry down) and the file's
    // afterAll closes it again, by when the orchestrator (and its pool) may be gone too.
    close() {
      closing ??= (async () => {
        await app.close()
        await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
        rmSync(root, { recursive: true, force: true })
      })()
      return closing
    },
  }
}

/** An action plugin: echoes its input with its version and idempotency key; sleeps (exec) on request. */
export const ECHO_PERMISSIONS = { exec: ['sleep'] }

export function echoSource(version: string): string {
  return `import { defineAction, Type } from '@stavily/sdk'
export default defineAction({
  input: Type.Object({ msg: Type.String(), sleepMs: Type.Optional(Type.Number()) }),
  output: Type.Object({ version: Type.String(), key: Type.String(), echo: Type.String() }),
  async run(ctx, input) {
    if (input.sleepMs) await ctx.exec('sleep', [String(input.sleepMs / 1000)])
    return { version: '${version}', key: ctx.idempotencyKey, echo: input.msg }
  },
})
`
}

/** A sensor plugin: each check emits one tick carrying its config's label; watch emits one every 200 ms. */
export const TICKER_SOURCE = `import { defineSensor, Type } from '@stavily/sdk'
export default defineSensor({
  config: Type.Object({ label: Type.String() }),
  event: Type.Object({ label: Type.String() }),
  async check(ctx) {
    await ctx.emit({ type: 'tick', data: { label: ctx.config.label } })
  },
  async watch(ctx) {
    while (!ctx.isStopping()) {
      await ctx.emit({ type: 'tick', data: { label: ctx.config.label } })
      await ctx.sleep(200)
    }
  },
})
`
