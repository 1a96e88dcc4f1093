import { type ExecResult, PluginError, type SensorContext } from '@stavily/sdk'
import type { Settings } from './config.ts'
import { logArgs, type PushCommit, parseCount, parseLeftRight, parseLog } from './git-log.ts'

// The bare mirror: one repository per URL under the folder the operator granted, holding
// the watched branches, so the commits between two heads can be read with `git log`. Every
// command runs through the granted `git` with the mirror as cwd (the agent checks it against
// the fs grant); `git` writes there itself, as a granted command may.

type Exec = SensorContext<unknown, unknown>['exec']

/** What a push lists: the commits, how many there were, and whether history was rewritten. */
export interface PushCommits {
  commits: PushCommit[]
  totalCommits: number
  /** null when `before` is not in the mirror: whether history was rewritten is not known. */
  forced: boolean | null
}

export class Mirror {
  /** `<mirror>/<id>.git`: one bare repository per URL, so configs can share one folder. */
  readonly path: string

  constructor(
    private readonly exec: Exec,
    private readonly settings: Settings & { mirror: string },
    id: string,
  ) {
    this.path = `${settings.mirror}/${id}.git`
  }

  /**
   * Creates the bare repository if it is not there (`git init` leaves an existing one as it
   * is), then fetches the watched branches that exist into it, by the same names.
   */
  async fetch(branches: string[]): Promise<void> {
    if (branches.length === 0) return
    await this.git(
      'init',
      // No template: no sample hooks, nothing but the repository.
      ['init', '--quiet', '--bare', '--template=', this.path.slice(this.settings.mirror.length + 1)],
      this.settings.mirror,
    )
    await this.git('fetch', [
      // gc in the foreground: nothing the check started outlives it.
      '-c',
      'gc.autoDetach=false',
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-recurse-submodules',
      '--',
      this.settings.url,
      ...branches.map((b) => `+refs/heads/${b}:refs/heads/${b}`),
    ])
  }

  /**
   * The commits `after` brings over `before` (a branch that moved), or over `others` (the
   * other watched heads) when the branch is new or `before` is no longer in the mirror.
   */
  async commits(before: string | null, after: string, others: string[]): Promise<PushCommits> {
    if (before !== null) {
      const r = await this.run(['rev-list', '--left-right', '--count', `${before}...${after}`, '--'])
      if (r.code === 0) {
        const { left, right } = parseLeftRight(r.stdout)
        return {
          commits: await this.log(after, [before]),
          totalCommits: right,
          // Commits only `before` had: history was rewritten (a force-push).
          forced: left > 0,
        }
      }
      // `before` is not in the mirror (it was made after that head was seen): as for a new branch.
      if (!(await this.has(before)) && (await this.has(after))) return this.since(after, others, null)
      throw this.failed('rev-list', r)
    }
    return this.since(after, others, false)
  }

  private async since(after: string, others: string[], forced: boolean | null): Promise<PushCommits> {
    const exclude = others.filter((sha) => sha !== after)
    const r = await this.git('rev-list', ['rev-list', '--count', after, ...notArgs(exclude), '--'])
    return { commits: await this.log(after, exclude), totalCommits: parseCount(r.stdout), forced }
  }

  private async log(tip: string, exclude: string[]): Promise<PushCommit[]> {
    const r = await this.git('log', logArgs(tip, exclude, this.settings.maxCommits))
    return parseLog(r.stdout)
  }

  private async has(sha: string): Promise<boolean> {
    return (await this.run(['cat-file', '-e', `${sha}^{commit}`])).code === 0
  }

  private run(args: string[], cwd = this.path): Promise<ExecResult> {
    return this.exec('git', args, { cwd, timeoutMs: this.settings.timeoutMs })
  }

  private async git(what: string, args: string[], cwd = this.path): Promise<ExecResult> {
    const r = await this.run(args, cwd)
    if (r.timedOut || r.code !== 0) throw this.failed(what, r)
    return r
  }

  private failed(what: string, r: ExecResult): PluginError {
    const why = r.timedOut ? `timed out after ${this.settings.timeoutMs} ms` : `exited with ${r.code}`
    return new PluginError(
      'GIT_POLL_MIRROR_FAILED',
      `git ${what} in the mirror ${this.path} ${why}: ${r.stderr.trim().slice(0, 500)}`,
      {
        // A network problem or a push racing the check passes; the next check tries again.
        retryable: true,
        data: { command: 'git', url: this.settings.url, mirror: this.path, code: r.code },
      },
    )
  }
}

function notArgs(exclude: string[]): string[] {
  return exclude.length > 0 ? ['--not', ...exclude] : []
}
