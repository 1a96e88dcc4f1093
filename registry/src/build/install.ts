import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { DEFAULTS } from '../defaults.ts'
import { RegistryError } from '../errors.ts'
import { checkLockfile } from './lockfile.ts'

// Installs a plugin's own runtime dependencies exactly as locked, with install scripts off:
// a publish must never run code from the plugin's dependency tree on the registry host.

/** Runtime dependencies the build needs from node_modules (those not provided by the host). */
export function dependenciesToInstall(
  packageJson: Record<string, unknown>,
  provided: Readonly<Record<string, string>>,
): string[] {
  const deps = packageJson.dependencies
  if (!deps || typeof deps !== 'object') return []
  return Object.keys(deps).filter((name) => provided[name] === undefined)
}

/** The folder holding the lockfile: the plugin's own, or a monorepo root above it. */
export function findLockfileDir(pluginDir: string, checkoutRoot: string): string | undefined {
  for (let dir = pluginDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package-lock.json')) || existsSync(join(dir, 'npm-shrinkwrap.json'))) return dir
    if (dir === checkoutRoot || dirname(dir) === dir) return undefined
  }
}

export async function installDependencies(opts: {
  pluginDir: string
  checkoutRoot: string
  dependencies: readonly string[]
  /** A scratch folder of this publish, outside the checkout: npm's HOME and cache. */
  workDir: string
  npmRegistry?: string
  timeoutMs?: number
}): Promise<{ ms: number }> {
  const dir = findLockfileDir(opts.pluginDir, opts.checkoutRoot)
  if (!dir)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_LOCKFILE_MISSING',
      `package-lock.json: the plugin depends on ${opts.dependencies.join(', ')} but the repository has no lockfile; run npm install and commit package-lock.json, so the registry builds exactly what you tested`,
      { data: { field: 'package-lock.json', dependencies: opts.dependencies } },
    )
  const npmRegistry = opts.npmRegistry ?? DEFAULTS.npmRegistry
  await checkLockfile(dir, npmRegistry)
  // The checkout's .npmrc files would choose the registry, its credentials, a script shell or
  // a git binary for npm: they are the publisher's, so they go before npm starts.
  for (let d = dir; ; d = dirname(d)) {
    await rm(join(d, '.npmrc'), { force: true })
    if (d === opts.checkoutRoot || dirname(d) === d) break
  }
  // npm's own HOME, cache and (empty) user and global config, and nothing of the
  // orchestrator's environment (its secrets key, DATABASE_URL, tokens, the real HOME).
  const home = join(opts.workDir, 'npm-home')
  await mkdir(home, { recursive: true })
  await writeFile(join(home, '.npmrc'), '')
  await writeFile(join(home, 'global-npmrc'), '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LC_ALL: 'C',
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_globalconfig: join(home, 'global-npmrc'),
    npm_config_cache: join(home, 'cache'),
    npm_config_registry: npmRegistry,
    npm_config_ignore_scripts: 'true',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  }
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    execFile(
      'npm',
      ['ci', '--ignore-scripts', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'],
      {
        cwd: dir,
        env,
        timeout: opts.timeoutMs ?? DEFAULTS.installTimeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, _stdout, stderr) => {
        if (!err) return resolve()
        const tail = String(stderr).trim().slice(-DEFAULTS.maxErrorOutputChars)
        reject(
          new RegistryError(
            'STAVILY_ERR_REGISTRY_INSTALL_FAILED',
            `npm ci --ignore-scripts failed for the plugin's dependencies${err.killed ? ' (timed out)' : ''}: ${tail || err.message}`,
            { cause: err, data: { field: 'package-lock.json' } },
          ),
        )
      },
    )
  })
  return { ms: performance.now() - started }
}
