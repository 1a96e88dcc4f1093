import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { CliError } from './cli-error.ts'
import { EXIT } from './exit-codes.ts'

// Where `stavily login` keeps the orchestrator URL and the API token: $STAVILY_CONFIG, or
// $XDG_CONFIG_HOME/stavily/config.json, or ~/.config/stavily/config.json. The token is a
// credential: the file is written 0600 (in a 0700 folder) and replaced atomically.
// STAVILY_URL and STAVILY_TOKEN override what the file says (CI jobs need no file).

export interface StoredConfig {
  url: string
  token: string
}

export const DEFAULT_URL = 'http://127.0.0.1:8080'

export function configPath(env: Readonly<Record<string, string | undefined>>): string {
  if (env.STAVILY_CONFIG) return env.STAVILY_CONFIG
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config')
  return join(base, 'stavily', 'config.json')
}

export async function readConfig(
  path: string,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<Partial<StoredConfig>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new CliError(EXIT.failed, `cannot read the config file ${path}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new CliError(
      EXIT.failed,
      `the config file ${path} is not valid JSON`,
      env.STAVILY_CONFIG
        ? 'STAVILY_CONFIG names it: run `stavily login` to rewrite it'
        : 'run `stavily login` again to rewrite it',
    )
  }
  const c = (parsed ?? {}) as Record<string, unknown>
  const out: Partial<StoredConfig> = {}
  if (typeof c.url === 'string') out.url = c.url
  if (typeof c.token === 'string') out.token = c.token
  return out
}

export async function writeConfig(path: string, config: StoredConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  // The mode given to writeFile is filtered by the umask: set it outright.
  await chmod(tmp, 0o600)
  await rename(tmp, path)
}

/** Checks a URL given on the command line or in the environment; `field` names where it came from. */
export function checkUrl(field: string, url: string): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new CliError(EXIT.usage, `${field}: expected an http(s) URL such as ${DEFAULT_URL}, got "${url}"`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new CliError(EXIT.usage, `${field}: expected an http(s) URL, got "${url}"`)
  return url.replace(/\/+$/, '')
}

export interface Target {
  url: string
  token: string | undefined
  /** Where the URL came from, for messages. */
  urlFrom: string
}

/** The orchestrator to talk to: --url, then STAVILY_URL, then the config file, then the local default. */
export async function resolveTarget(
  env: Readonly<Record<string, string | undefined>>,
  flagUrl: string | undefined,
): Promise<Target> {
  const file = await readConfig(configPath(env), env)
  const token = env.STAVILY_TOKEN || file.token
  if (flagUrl) return { url: checkUrl('--url', flagUrl), token, urlFrom: '--url' }
  if (env.STAVILY_URL) return { url: checkUrl('STAVILY_URL', env.STAVILY_URL), token, urlFrom: 'STAVILY_URL' }
  if (file.url) return { url: checkUrl(configPath(env), file.url), token, urlFrom: configPath(env) }
  return { url: DEFAULT_URL, token, urlFrom: 'the default' }
}
