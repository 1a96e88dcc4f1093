// How the harness starts the platform's own processes: from TypeScript sources under tsx,
// with the workspace packages resolved to their sources (tsconfig.source.json), so the
// tests need no build. STAVILY_E2E_ROOT points at another checkout (a clean worktree of
// HEAD, for instance) whose sources are run instead.
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { REPO_ROOT } from './git.ts'

export const SOURCE_ROOT = resolve(process.env.STAVILY_E2E_ROOT ?? REPO_ROOT)

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/** node arguments and environment to run `file` (relative to the source root) from source. */
export function fromSource(file: string): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    // isolated-vm needs --no-node-snapshot in any process that loads it.
    args: ['--no-node-snapshot', '--import', tsx, join(SOURCE_ROOT, file)],
    env: { TSX_TSCONFIG_PATH: join(SOURCE_ROOT, 'e2e/tsconfig.source.json') },
  }
}
