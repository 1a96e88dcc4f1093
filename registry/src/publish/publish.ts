import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { version as esbuildVersion } from 'esbuild'
import pkg from '../../package.json' with { type: 'json' }
import { type BundleOptions, bundlePlugin } from '../build/bundle.ts'
import { dependenciesToInstall, installDependencies } from '../build/install.ts'
import { readPluginSource } from '../build/read-manifest.ts'
import { recordVersion } from '../catalog/record-version.ts'
import { checkPublishInput } from '../checks.ts'
import { checkoutRef } from '../git/clone.ts'
import type { GitCredential } from '../git/credentials.ts'
import type { RemotePolicy } from '../git/remote-policy.ts'
import type { SqlClient } from '../storage/sql-client.ts'
import type { TufRepository } from '../tuf/repository.ts'
import type { Publisher, PublishProgress, PublishResult } from '../types.ts'
import { checkTagMatches } from './version-tag.ts'

// publish: checkout → manifest → install (only when needed) → build → sign and store.
// Everything slow happens in a scratch folder before the one storage transaction, so a
// failure at any step stores nothing.

export const BUILDER = `@stavily/registry@${pkg.version} esbuild@${esbuildVersion}`

export interface PublishDeps {
  sql: SqlClient
  schema: string
  tuf: TufRepository
  credentials: readonly GitCredential[]
  remotes: RemotePolicy
  build: BundleOptions & {
    cloneTimeoutMs?: number
    installTimeoutMs?: number
    workDir?: string
    npmRegistry?: string
  }
  now: () => Date
}

export async function publishFromGit(
  deps: PublishDeps,
  input: unknown,
  opts: { onProgress?: (p: PublishProgress) => void; publisher?: Publisher } = {},
): Promise<PublishResult> {
  const publisher = opts.publisher
  const { remote, ref, path } = checkPublishInput(input)
  const progress = opts.onProgress ?? (() => {})
  const started = performance.now()
  const work = await mkdtemp(join(deps.build.workDir ?? tmpdir(), 'stavily-publish-'))
  try {
    // Always <work>/checkout: the same depth for every publish (host paths never reach the
    // bundle anyway; see build/bundle-inputs.ts).
    const checkoutDir = join(work, 'checkout')
    progress({ step: 'clone', message: `fetching ${remote.url} at ${ref}` })
    const checkout = await checkoutRef({
      remote,
      ref,
      dir: checkoutDir,
      // A publisher's own credentials replace the registry's: one organization's access to a
      // private host is never used for another's publish.
      credentials: publisher?.credentials ?? deps.credentials,
      policy: deps.remotes,
      ...(deps.build.cloneTimeoutMs !== undefined ? { timeoutMs: deps.build.cloneTimeoutMs } : {}),
    })
    const cloneMs = performance.now() - started

    progress({
      step: 'manifest',
      message: `reading ${path === '' ? '' : `${path}/`}package.json at ${checkout.commit.slice(0, 12)}`,
    })
    const source = await readPluginSource(checkoutDir, path)
    if (checkout.refKind === 'tag') checkTagMatches(checkout.tag!, source.manifest.version)
    // Before anything slow: a name owned by someone else fails now (and again, atomically, in
    // the storing transaction, where the first publish of a name claims it).
    await publisher?.names?.check(source.manifest.name, deps.sql)

    const provided = deps.build.provided ?? {}
    const toInstall = dependenciesToInstall(source.packageJson, provided)
    let installMs = 0
    if (toInstall.length > 0) {
      progress({ step: 'install', message: `npm ci --ignore-scripts (${toInstall.join(', ')})` })
      installMs = (
        await installDependencies({
          pluginDir: source.dir,
          checkoutRoot: checkoutDir,
          dependencies: toInstall,
          workDir: work,
          ...(deps.build.npmRegistry !== undefined ? { npmRegistry: deps.build.npmRegistry } : {}),
          ...(deps.build.installTimeoutMs !== undefined ? { timeoutMs: deps.build.installTimeoutMs } : {}),
        })
      ).ms
    }

    progress({ step: 'build', message: `bundling ${source.manifest.entry}` })
    const buildStarted = performance.now()
    const entry = path === '' ? source.manifest.entry : `${path}/${source.manifest.entry}`
    const bundle = await bundlePlugin(checkoutDir, entry, deps.build)
    const buildMs = performance.now() - buildStarted

    progress({
      step: 'sign',
      message: `signing and storing ${source.manifest.name}@${source.manifest.version}`,
    })
    const signStarted = performance.now()
    const m = source.manifest
    const result = await recordVersion(deps.sql, deps.schema, deps.tuf, {
      name: m.name,
      version: m.version,
      kind: m.kind,
      description:
        m.description ??
        (typeof source.packageJson.description === 'string' ? source.packageJson.description : ''),
      sdkRange: m.sdk,
      permissions: m.permissions,
      manifest: source.packageJson.stavily,
      repository: remote.url,
      ref,
      commit: checkout.commit,
      path,
      builderVersion: BUILDER,
      builtAt: deps.now().toISOString(),
      bytes: bundle.bytes,
      sha256: bundle.sha256,
      ...(publisher?.names ? { claim: publisher.names.claim } : {}),
    })
    const signMs = performance.now() - signStarted
    return {
      ...result,
      timings: { cloneMs, installMs, buildMs, signMs, totalMs: performance.now() - started },
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}
