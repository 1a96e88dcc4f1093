// The first-party plugins are published "from Git, like anyone's": the demo commits a
// snapshot of this checkout's plugins/ into a repository of its own and publishes from its
// file:// URL. A snapshot (rather than this checkout's own history) publishes exactly what
// is on disk, uncommitted edits included, and works in a tarball without a .git folder.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Stavily dev',
  GIT_AUTHOR_EMAIL: 'dev@stavily.invalid',
  GIT_COMMITTER_NAME: 'Stavily dev',
  GIT_COMMITTER_EMAIL: 'dev@stavily.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
}

/** The first-party plugins: folder, package name, version, kind. */
export function firstPartyPlugins(root) {
  return readdirSync(join(root, 'plugins'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'plugins', d.name, 'package.json')))
    .map((d) => {
      const pkg = JSON.parse(readFileSync(join(root, 'plugins', d.name, 'package.json'), 'utf8'))
      return { dir: d.name, name: pkg.name, version: pkg.version, kind: pkg.stavily.kind }
    })
}

/** Commits plugins/* of `root` into `<dir>/plugins.git` (a fresh repository); returns its file:// URL and commit. */
export function snapshotPlugins(root, dir) {
  const work = join(dir, 'work')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  const git = (args, cwd = work) => execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim()
  git(['init', '--quiet', '--initial-branch=main'])
  for (const p of firstPartyPlugins(root)) {
    cpSync(join(root, 'plugins', p.dir), join(work, 'plugins', p.dir), {
      recursive: true,
      filter: (src) => !src.includes('node_modules'),
    })
  }
  git(['add', '-A'])
  git(['commit', '--quiet', '-m', 'first-party plugins (snapshot for npm run dev)'])
  const bare = join(dir, 'plugins.git')
  execFileSync('git', ['clone', '--quiet', '--bare', work, bare], { env: GIT_ENV })
  return { url: `file://${bare}`, commit: git(['rev-parse', 'HEAD']) }
}
