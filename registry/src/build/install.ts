import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { DEFAULTS } from '../defaults.ts'
import { RegistryError } from '../errors.ts'

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
  timeoutMs?: number
}): Promise<{ ms: number }> {
  const dir = findLockfileDir(opts.pluginDir, opts.checkoutRoot)
  if (!dir)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_LOCKFILE_MISSING',
      `package-lock.json: the plugin depends on ${opts.dependencies.join(', ')} but the repository has no lockfile; run npm install and commit package-lock.json, so the registry builds exactly what you tested`,
      { data: { field: 'package-lock.json', dependencies: opts.dependencies } },
    )
  // npm run sets npm_config_* for its children; none of them may leak into the plugin's install.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')),
  )
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    execFile(
      'npm',
      ['ci', '--ignore-scripts', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'],
      {
        cwd: dir,
        env: { ...env, npm_config_ignore_scripts: 'true', npm_config_update_notifier: 'false' },
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
