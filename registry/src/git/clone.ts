import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { simpleGit } from 'simple-git'
import { DEFAULTS, GIT_PROTOCOLS } from '../defaults.ts'
import { RegistryError } from '../errors.ts'
import { credentialEnv, credentialFor, type GitCredential, redactSecrets } from './credentials.ts'
import { isFullSha, isShortSha } from './refs.ts'
import { allowRemote, type RemotePolicy } from './remote-policy.ts'
import { type RemoteUrl, redactUrl } from './remote-url.ts'
import { refuseEscapingSymlinks } from './symlinks.ts'

// A shallow checkout of one ref with simple-git: a tag or branch is one `git clone --depth 1
// --branch` (the fewest processes and connections; a publish should take well under a
// second); a commit SHA is fetched by id, with a full fetch for servers that will not serve
// an unadvertised commit.

export interface CheckoutResult {
  commit: string
  refKind: 'tag' | 'branch' | 'commit'
  /** The tag name when a tag was published. */
  tag?: string
}

export interface CloneOptions {
  remote: RemoteUrl
  ref: string
  /** An empty folder to check out into (its parent holds git's isolated HOME). */
  dir: string
  credentials: readonly GitCredential[]
  /** Which remotes may be fetched (remote-policy.ts); default: public hosts only. */
  policy?: RemotePolicy
  timeoutMs?: number
}

/** Checks out the ref, then refuses it if any symlink in it leads outside (symlinks.ts). */
export async function checkoutRef(opts: CloneOptions): Promise<CheckoutResult> {
  const result = await fetchRef(opts)
  await refuseEscapingSymlinks(opts.dir)
  return result
}

async function fetchRef(opts: CloneOptions): Promise<CheckoutResult> {
  const { remote, ref, dir } = opts
  const policy = opts.policy ?? {}
  const allowed = await allowRemote(remote, policy)
  const home = join(dir, '..', 'git-home')
  await mkdir(dir, { recursive: true })
  await mkdir(home, { recursive: true })
  const cred = credentialEnv(remote, credentialFor(remote, opts.credentials))
  const secrets = cred.secrets
  // The host pinned to the addresses checked, and no redirect to a host that was not checked.
  const extra: [string, string][] = [...allowed.pin]
  if (!policy.allowPrivate && (remote.scheme === 'http' || remote.scheme === 'https'))
    extra.push(['http.followRedirects', 'false'])
  const env = withGitConfig(cred.env, extra)
  const git = (baseDir: string) =>
    simpleGit({
      baseDir,
      timeout: { block: opts.timeoutMs ?? DEFAULTS.cloneTimeoutMs },
      // Only what this module sets itself: the auth header (GIT_CONFIG_*) and the SSH key command.
      unsafe: {
        allowUnsafeConfigEnvCount: 'GIT_CONFIG_COUNT' in env,
        allowUnsafeSshCommand: 'GIT_SSH_COMMAND' in env,
      },
    }).env({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // An empty HOME and no system config: the operator's ~/.gitconfig (insteadOf, helpers)
      // cannot change what is fetched, and builds are the same on every host.
      HOME: home,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ALLOW_PROTOCOL: GIT_PROTOCOLS.join(':'),
      LC_ALL: 'C',
      ...env,
    })
  const fail = (err: unknown): never => {
    throw gitError(err, remote, ref, secrets, allowed.internal)
  }
  const repo = git(dir)

  if (!isFullSha(ref)) {
    // Tags and branches: one `git clone --depth 1 --branch` (one process, one connection).
    const name = ref.replace(/^refs\/(tags|heads)\//, '')
    await git(dirname(dir))
      .raw(['clone', '--quiet', '--depth=1', '--no-tags', `--branch=${name}`, '--', remote.url, dir])
      .catch((err: unknown) => {
        const text = err instanceof Error ? err.message : String(err)
        if (/Remote branch .* not found/i.test(text)) {
          if (isShortSha(ref))
            throw new RegistryError(
              'STAVILY_ERR_REGISTRY_REF_NOT_FOUND',
              `ref: no tag or branch named "${ref}" in ${redactUrl(remote.url)}; to publish a commit, give its full 40-character SHA`,
              { data: { field: 'ref' } },
            )
          throw refNotFound(remote, ref)
        }
        return fail(err)
      })
    // A tag leaves HEAD detached; a branch leaves it on the branch.
    const [commit, symbolic] = (
      await repo.raw(['rev-parse', 'HEAD', '--symbolic-full-name', 'HEAD']).catch(fail)
    )
      .trim()
      .split('\n')
    if (symbolic?.trim() === 'HEAD') return { commit: commit!.trim(), refKind: 'tag', tag: name }
    return { commit: commit!.trim(), refKind: 'branch' }
  }

  // A commit: fetch exactly it; servers that refuse unadvertised objects get a full fetch.
  await repo.init().catch(fail)
  await repo.raw(['fetch', '--quiet', '--depth=1', '--no-tags', '--', remote.url, ref]).catch(async () => {
    await repo
      .raw([
        'fetch',
        '--quiet',
        '--no-tags',
        '--',
        remote.url,
        '+refs/heads/*:refs/stavily/heads/*',
        '+refs/tags/*:refs/stavily/tags/*',
      ])
      .catch(fail)
  })
  const type = await repo.raw(['cat-file', '-t', ref]).catch(() => '')
  if (type.trim() !== 'commit') throw refNotFound(remote, ref)
  await repo.raw(['checkout', '--quiet', '--detach', ref]).catch(fail)
  return { commit: ref, refKind: 'commit' }
}

function refNotFound(remote: RemoteUrl, ref: string): RegistryError {
  return new RegistryError(
    'STAVILY_ERR_REGISTRY_REF_NOT_FOUND',
    `ref: no tag, branch or commit named "${ref}" in ${redactUrl(remote.url)}`,
    { data: { field: 'ref' } },
  )
}

/** Maps a git failure to a registry error whose message carries no secret. */
function gitError(
  err: unknown,
  remote: RemoteUrl,
  ref: string,
  secrets: readonly string[],
  internal: boolean,
): RegistryError {
  const raw = err instanceof Error ? err.message : String(err)
  const text = redactUrl(redactSecrets(raw, secrets)).trim().slice(0, DEFAULTS.maxErrorOutputChars)
  const where = redactUrl(remote.url)
  // For a file:// or internal remote, git's own words (paths, banners, internal host names)
  // are the orchestrator's, not the publisher's: only the classified cause is said.
  const shown = (s: string) => (internal ? '' : s)
  if (
    /does not exist|not found|not exported|does not appear to be a git repository|no such (file|repository)|unable to find|repository .* not found/i.test(
      text,
    )
  )
    return new RegistryError(
      'STAVILY_ERR_REGISTRY_REPO_NOT_FOUND',
      `repo: no Git repository at ${where}${shown(` (${text})`)}`,
      {
        data: { field: 'repo' },
      },
    )
  if (
    /authentication failed|could not read (username|password)|HTTP 40[13]|returned error: 40[13]|permission denied/i.test(
      text,
    )
  )
    return new RegistryError(
      'STAVILY_ERR_REGISTRY_GIT_FAILED',
      `repo: access to ${where} was refused; set a Git credential for host "${remote.host}" for your organization (stavily plugin credential set)${shown(` (${text})`)}`,
      { data: { field: 'repo' } },
    )
  if (/timed? ?out|block timeout/i.test(text))
    return new RegistryError(
      'STAVILY_ERR_REGISTRY_GIT_FAILED',
      `repo: git gave no output for too long while fetching ${where} @ ${ref}`,
      {
        data: { field: 'repo' },
      },
    )
  return new RegistryError(
    'STAVILY_ERR_REGISTRY_GIT_FAILED',
    `repo: git failed for ${where} @ ${ref}${shown(`: ${text}`)}`,
    {
      data: { field: 'repo' },
    },
  )
}

/** Adds git config entries to an environment that may already carry some (GIT_CONFIG_COUNT). */
function withGitConfig(
  env: Record<string, string>,
  entries: readonly [string, string][],
): Record<string, string> {
  if (entries.length === 0) return env
  const out = { ...env }
  let n = Number(out.GIT_CONFIG_COUNT ?? 0)
  for (const [key, value] of entries) {
    out[`GIT_CONFIG_KEY_${n}`] = key
    out[`GIT_CONFIG_VALUE_${n}`] = value
    n++
  }
  out.GIT_CONFIG_COUNT = String(n)
  return out
}
