import { PluginError } from '@stavily/sdk'

/** The arguments of the one `git ls-remote` that reads every watched branch. */
export function lsRemoteArgs(url: string, branches: string[]): string[] {
  // Full ref names as patterns match exactly (a pattern matches whole trailing path parts).
  return ['ls-remote', '--heads', '--', url, ...branches.map((b) => `refs/heads/${b}`)]
}

const LINE = /^([0-9a-f]{40}|[0-9a-f]{64})\t(refs\/heads\/.+)$/

/** The head of each watched branch, or null for a branch the repository does not have. */
export function parseLsRemote(stdout: string, branches: string[]): Record<string, string | null> {
  const heads: Record<string, string | null> = {}
  for (const branch of branches) heads[branch] = null
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue
    const m = LINE.exec(line)
    if (m === null) {
      throw new PluginError(
        'GIT_POLL_UNREADABLE',
        `git ls-remote: unexpected line ${JSON.stringify(line.slice(0, 200))}`,
        {
          data: { command: 'git' },
        },
      )
    }
    const branch = m[2]!.slice('refs/heads/'.length)
    if (branch in heads) heads[branch] = m[1]!
  }
  return heads
}
