import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { promisify } from 'node:util'
import { DEV_PRERELEASE } from '@stavily/protocol'
import { CliError } from './cli-error.ts'
import { EXIT } from './exit-codes.ts'

// `stavily plugin dev` builds a working tree with the registry's own publish path (clone,
// manifest, install, bundle, sign), so a dev build is the same bytes a release of that tree
// would be. The working tree itself is never touched (no commit, tag or version bump): its
// files are copied into a scratch Git repository outside it, with package.json's version
// set to a dev version, and that commit is what the registry publishes (a file:// URL, so
// the orchestrator must run on this machine and allow file:// remotes, as `npm run dev`
// does).

const run = promisify(execFile)

/** Not part of a plugin's source: dependencies, Git's own folder, local build output. */
export const IGNORED = new Set(['node_modules', '.git', 'dist', 'coverage'])

export function ignoredPath(root: string, path: string): boolean {
  return relative(root, path)
    .split(sep)
    .some((part) => IGNORED.has(part))
}

export interface DevManifest {
  name: string
  version: string
  kind: 'sensor' | 'action' | 'output'
}

export async function readDevManifest(dir: string): Promise<DevManifest> {
  let pkg: { name?: unknown; version?: unknown; stavily?: { kind?: unknown } }
  try {
    pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))
  } catch (err) {
    throw new CliError(
      EXIT.usage,
      `${join(dir, 'package.json')}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
      'run stavily plugin dev in the plugin folder (the one with package.json), or pass it: stavily plugin dev DIR',
    )
  }
  const kind = pkg.stavily?.kind
  if (typeof pkg.name !== 'string' || typeof pkg.version !== 'string' || typeof kind !== 'string')
    throw new CliError(
      EXIT.usage,
      `${join(dir, 'package.json')}: needs "name", "version" and a "stavily" manifest with "kind"`,
      'see docs/plugin-authors.md',
    )
  return { name: pkg.name, version: pkg.version, kind: kind as DevManifest['kind'] }
}

/** `0.2.0` (or `0.2.0-beta.1+x`) → `0.2.0-dev.<n>`: sorts above earlier dev builds, below 0.2.0. */
export function devVersion(version: string, n: number): string {
  const core = /^(\d+\.\d+\.\d+)/.exec(version)?.[1] ?? '0.0.0'
  return `${core}-${DEV_PRERELEASE}.${n}`
}

export class DevSnapshot {
  /** The branch each build is committed on (and published from). */
  static readonly BRANCH = 'dev'

  private constructor(readonly dir: string) {}

  static async create(): Promise<DevSnapshot> {
    const dir = await mkdtemp(join(tmpdir(), 'stavily-plugin-dev-'))
    const s = new DevSnapshot(dir)
    await s.git(['init', '--quiet', `--initial-branch=${DevSnapshot.BRANCH}`])
    return s
  }

  get url(): string {
    return `file://${this.dir}`
  }

  /** Copies `source` in (minus IGNORED), sets the version, commits; answers the commit. */
  async commit(source: string, version: string): Promise<string> {
    for (const entry of await readdir(this.dir)) {
      if (entry !== '.git') await rm(join(this.dir, entry), { recursive: true, force: true })
    }
    await cp(source, this.dir, {
      recursive: true,
      filter: (path) => path === source || !ignoredPath(source, path),
    })
    const pkgPath = join(this.dir, 'package.json')
    const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as Record<string, unknown>
    await writeFile(pkgPath, `${JSON.stringify({ ...pkg, version }, null, 2)}\n`)
    await this.git(['add', '-A'])
    await this.git(['commit', '--quiet', '--allow-empty', '--no-verify', '-m', `dev build ${version}`])
    return (await this.git(['rev-parse', 'HEAD'])).trim()
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }

  private async git(args: string[]): Promise<string> {
    try {
      const { stdout } = await run(
        'git',
        [
          '-c',
          'user.name=stavily plugin dev',
          '-c',
          'user.email=dev@stavily.invalid',
          '-c',
          'commit.gpgsign=false',
          ...args,
        ],
        {
          cwd: this.dir,
          env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' },
        },
      )
      return stdout
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string }
      throw new CliError(
        EXIT.failed,
        e.code === 'ENOENT'
          ? 'stavily plugin dev needs git on PATH'
          : `git ${args[0]}: ${e.stderr?.trim() || e.message}`,
      )
    }
  }
}
