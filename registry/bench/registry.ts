// npm run bench -- registry
// publish_s: clone from a local git daemon + build + sign + store of the scaffolder's action
// template (no dependency install); install_s: `npm ci` of a plugin with one local dependency,
// reported separately; verify_ms_p50: one artifact against already-fresh TUF metadata;
// ed25519_verify_ms_p50: a raw node:crypto Ed25519 verify, the baseline in the same run.
import { execFile } from 'node:child_process'
import { verify as edVerify, generateKeyPairSync, sign } from 'node:crypto'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type BenchContext, type BenchReport, percentile, sample } from '../../bench/lib.ts'
import { RegistryClient } from '../src/client/registry-client.ts'
import type { SqlClient } from '../src/storage/sql-client.ts'
import { backends, dropSchema } from '../test/helpers/backends.ts'
import { startGitDaemon } from '../test/helpers/git-daemon.ts'
import { serveRegistry } from '../test/helpers/http-server.ts'
import { type NpmRegistry, startNpmRegistry } from '../test/helpers/npm-registry.ts'
import { testRegistry } from '../test/helpers/registry.ts'
import { TestRepo } from '../test/helpers/repos.ts'

const TEMPLATE = fileURLToPath(new URL('../../templates/template-action/', import.meta.url))

export default async function bench(ctx: BenchContext): Promise<BenchReport> {
  const backend = backends.find((b) => b.name === (process.env.DATABASE_URL ? 'postgres' : 'pglite'))!
  const root = mkdtempSync(join(tmpdir(), 'stavily-bench-registry-'))
  const db: { sql: SqlClient; close(): Promise<void> } = await backend.open()
  const schemas: string[] = []
  let npm: NpmRegistry | undefined
  const daemon = await (async () => {
    const repo = new TestRepo(root, 'action')
    cpSync(join(TEMPLATE, 'src'), join(repo.work, 'src'), { recursive: true })
    cpSync(join(TEMPLATE, 'package.json'), join(repo.work, 'package.json'))
    repo.commit('template')
    const version = (JSON.parse(readFileSync(join(repo.work, 'package.json'), 'utf8')) as { version: string })
      .version
    repo.tag(`v${version}`)
    // The dependency comes from a loopback npm registry (the registry installs only
    // registry tarballs): nothing from the network or the npm cache, so a clean machine runs it.
    const tiny = join(root, 'tiny-label')
    mkdirSync(join(root, 'packs'), { recursive: true })
    mkdirSync(tiny)
    writeFileSync(
      join(tiny, 'package.json'),
      JSON.stringify({ name: 'tiny-label', version: '1.0.0', main: 'index.js' }),
    )
    writeFileSync(join(tiny, 'index.js'), 'module.exports = (s) => s\n')
    npm = await startNpmRegistry([{ dir: tiny, name: 'tiny-label', version: '1.0.0' }], join(root, 'packs'))
    const deps = new TestRepo(root, 'with-deps')
    cpSync(join(TEMPLATE, 'src'), join(deps.work, 'src'), { recursive: true })
    const pkg = JSON.parse(readFileSync(join(TEMPLATE, 'package.json'), 'utf8')) as Record<string, unknown>
    // Only the one dependency: the template's development tools (esbuild, vitest) are not
    // needed to publish (the registry builds with its own esbuild and provides the SDK).
    pkg.dependencies = { 'tiny-label': '^1.0.0' }
    delete pkg.devDependencies
    delete pkg.allowScripts
    deps.write({ 'package.json': JSON.stringify(pkg, null, 2) })
    // Async: the loopback npm registry answers from this very process.
    await promisify(execFile)(
      'npm',
      [
        'install',
        '--package-lock-only',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        `--registry=${npm.url}`,
      ],
      { cwd: deps.work },
    )
    deps.commit('with a dependency')
    return Object.assign(await startGitDaemon(join(root, 'bare')), { tag: `v${version}` })
  })()

  try {
    const runs = ctx.quick ? 3 : 10
    ctx.progress(`publishing the action template ${runs} times (${backend.name})`)
    const totals: number[] = []
    const clone: number[] = []
    const build: number[] = []
    const signStore: number[] = []
    let bundleBytes = 0
    for (let i = 0; i < runs + 1; i++) {
      // A fresh registry each time, so every run signs and stores (a republish is a no-op).
      const reg = await testRegistry(db.sql)
      schemas.push(reg.schema)
      const res = await reg.publish({ repo: daemon.url('action.git'), ref: daemon.tag })
      if (i === 0) continue // warm-up: first esbuild start, first git spawn
      totals.push(res.timings.totalMs)
      clone.push(res.timings.cloneMs)
      build.push(res.timings.buildMs)
      signStore.push(res.timings.signMs)
      bundleBytes = res.version.size
    }

    ctx.progress('publishing a plugin with one dependency (npm ci --ignore-scripts)')
    const installs: number[] = []
    for (let i = 0; i < (ctx.quick ? 1 : 3); i++) {
      const reg = await testRegistry(db.sql, { build: { npmRegistry: npm!.url } })
      schemas.push(reg.schema)
      installs.push((await reg.publish({ repo: daemon.url('with-deps.git'), ref: 'main' })).timings.installMs)
    }

    ctx.progress('verifying one artifact against fresh metadata')
    const reg = await testRegistry(db.sql)
    schemas.push(reg.schema)
    const published = await reg.publish({ repo: daemon.url('action.git'), ref: daemon.tag })
    const server = await serveRegistry(reg)
    let verifySamples: number[]
    try {
      const client = new RegistryClient({
        baseUrl: server.baseUrl,
        cacheDir: mkdtempSync(join(root, 'cache-')),
        trustedRoot: await reg.trustedRoot(),
      })
      const { bytes } = await client.download(published.version.name, published.version.version)
      const iterations = ctx.quick ? 300 : 3000
      verifySamples = await sample(
        () => client.verify(published.version.name, published.version.version, bytes),
        {
          iterations,
        },
      )
    } finally {
      await server.app.close()
    }

    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const message = Buffer.from((await reg.metadata('timestamp.json'))!)
    const signature = sign(null, message, privateKey)
    const edSamples = await sample(() => edVerify(null, message, publicKey, signature), {
      iterations: ctx.quick ? 300 : 3000,
    })

    const p50 = (xs: number[]) => percentile(xs, 50)
    return {
      metrics: {
        publish_s: { value: p50(totals) / 1000, unit: 's', target: 1, better: 'lower' },
        install_s: { value: p50(installs) / 1000, unit: 's', better: 'lower' },
        verify_ms_p50: {
          value: p50(verifySamples),
          unit: 'ms',
          target: 1,
          better: 'lower',
          baseline: 'raw node:crypto Ed25519 verify (ms)',
          baseline_value: p50(edSamples),
        },
        ed25519_verify_ms_p50: { value: p50(edSamples), unit: 'ms', better: 'lower' },
      },
      info: {
        backend: backend.name,
        publish_runs: runs,
        publish_s_p99: percentile(totals, 99) / 1000,
        clone_ms_p50: p50(clone),
        build_ms_p50: p50(build),
        sign_store_ms_p50: p50(signStore),
        bundle_bytes: bundleBytes,
        verify_ms_p99: percentile(verifySamples, 99),
      },
    }
  } finally {
    await npm?.close()
    await daemon.close()
    for (const s of schemas) await dropSchema(db.sql, s)
    await db.close()
    rmSync(root, { recursive: true, force: true })
  }
}
