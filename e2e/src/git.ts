// Plugins served from Git the way any plugin author's are: a repository snapshot of this
// checkout's plugins/ folder (committed, so uncommitted edits in the checkout are published
// as they are on disk) behind a real `git daemon` on a loopback port.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startInetdGitDaemon } from '../../test/git-daemon.ts'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Stavily E2E',
  GIT_AUTHOR_EMAIL: 'e2e@stavily.invalid',
  GIT_COMMITTER_NAME: 'Stavily E2E',
  GIT_COMMITTER_EMAIL: 'e2e@stavily.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
}

/** The first-party plugin folders (plugins/<dir>) and their package names. */
export function firstPartyPlugins(): { dir: string; name: string; version: string; kind: string }[] {
  const root = join(REPO_ROOT, 'plugins')
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const pkg = JSON.parse(readFileSync(join(root, d.name, 'package.json'), 'utf8'))
      return { dir: d.name, name: pkg.name as string, version: pkg.version as string, kind: pkg.stavily.kind }
    })
}

/** A working copy whose pushes land in a bare repository that the daemon serves. */
export class PluginRepo {
  readonly work: string
  readonly bare: string

  constructor(
    readonly base: string,
    readonly name: string,
  ) {
    this.work = join(base, 'work', name)
    this.bare = join(base, 'bare', `${name}.git`)
    mkdirSync(this.work, { recursive: true })
    mkdirSync(dirname(this.bare), { recursive: true })
    this.git(['init', '--quiet', '--initial-branch=main'])
    execFileSync('git', ['init', '--quiet', '--bare', this.bare], { env: GIT_ENV })
    this.git(['remote', 'add', 'origin', this.bare])
  }

  /** A repository holding plugins/<dir> for each first-party plugin, as in this checkout. */
  static snapshot(base: string, name = 'stavily-plugins'): PluginRepo {
    const repo = new PluginRepo(base, name)
    for (const p of firstPartyPlugins()) {
      cpSync(join(REPO_ROOT, 'plugins', p.dir), join(repo.work, 'plugins', p.dir), {
        recursive: true,
        filter: (src) => !src.includes('node_modules'),
      })
    }
    repo.commit('first-party plugins')
    return repo
  }

  git(args: string[]): string {
    return execFileSync('git', args, { cwd: this.work, env: GIT_ENV, encoding: 'utf8' }).trim()
  }

  write(path: string, content: string): this {
    const file = join(this.work, path)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, content)
    return this
  }

  read(path: string): string {
    return readFileSync(join(this.work, path), 'utf8')
  }

  /** Sets plugins/<dir>/package.json's version (a new release of that plugin). */
  setVersion(dir: string, version: string): this {
    const path = `plugins/${dir}/package.json`
    const pkg = JSON.parse(this.read(path))
    pkg.version = version
    return this.write(path, `${JSON.stringify(pkg, null, 2)}\n`)
  }

  /** Commits everything, pushes, and returns the commit SHA. */
  commit(message: string): string {
    this.git(['add', '-A'])
    this.git(['commit', '--quiet', '--allow-empty', '-m', message])
    this.git(['push', '--quiet', '--all', 'origin'])
    return this.git(['rev-parse', 'HEAD'])
  }

  tag(name: string): this {
    this.git(['tag', name])
    this.git(['push', '--quiet', '--tags', 'origin'])
    return this
  }

  get fileUrl(): string {
    return `file://${this.bare}`
  }
}

export interface GitDaemon {
  /** git://127.0.0.1:PORT/<name>.git for a repository under the base folder. */
  url(repo: PluginRepo): string
  close(): Promise<void>
}

/**
 * A real `git daemon` serving every bare repository under `<base>/bare`, on a loopback port
 * bound to 0 and kept (one `git daemon --inetd` per connection): no free port to race for.
 */
export async function startGitDaemon(base: string): Promise<GitDaemon> {
  const root = join(base, 'bare')
  mkdirSync(root, { recursive: true })
  const daemon = await startInetdGitDaemon(root)
  return { url: (repo) => daemon.url(`${repo.name}.git`), close: () => daemon.close() }
}
