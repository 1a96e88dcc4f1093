import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { simpleGit } from 'simple-git'
import { DEFAULTS, GIT_PROTOCOLS } from '../defaults.ts'
import { RegistryError } from '../errors.ts'
import { credentialEnv, credentialFor, type GitCredential, redactSecrets } from './credentials.ts'
import { isFullSha, isShortSha, pickRef } from './refs.ts'
import { type RemoteUrl, redactUrl } from './remote-url.ts'

// A shallow checkout of one ref with simple-git: `ls-remote` resolves the ref (so a missing
// repository or ref gets its own clear error), then one `fetch --depth 1` brings exactly that
// commit. A commit SHA that the server will not serve shallowly falls back to a full fetch.

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
  timeoutMs?: number
}

export async function checkoutRef(opts: CloneOptions): Promise<CheckoutResult> {
  const { remote, ref, dir } = opts
  const home = join(dir, '..', 'git-home')
  await mkdir(dir, { recursive: true })
  await mkdir(home, { recursive: true })
  const { env, secrets } = credentialEnv(remote, credentialFor(remote, opts.credentials))
  const git = simpleGit({
    baseDir: dir,
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
    throw gitError(err, remote, ref, secrets)
  }

  await git.init().catch(fail)
  const listed = await git.raw(['ls-remote', remote.url, ref]).catch(fail)
  const found = pickRef(ref, listed)
  if (found) {
    await git.raw(['fetch', '--depth=1', '--no-tags', remote.url, found.fullName]).catch(fail)
  } else if (isFullSha(ref)) {
    await git.raw(['fetch', '--depth=1', '--no-tags', remote.url, ref]).catch(async () => {
      // Servers that refuse unadvertised objects: fetch every branch and tag, then look.
      await git
        .raw([
          'fetch',
          '--no-tags',
          remote.url,
          '+refs/heads/*:refs/stavily/heads/*',
          '+refs/tags/*:refs/stavily/tags/*',
        ])
        .catch(fail)
    })
    const exists = await git.raw(['cat-file', '-t', ref]).catch(() => '')
    if (exists.trim() !== 'commit') throw refNotFound(remote, ref)
  } else if (isShortSha(ref)) {
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_REF_NOT_FOUND',
      `ref: no tag or branch named "${ref}" in ${redactUrl(remote.url)}; to publish a commit, give its full 40-character SHA`,
      { data: { field: 'ref' } },
    )
  } else {
    throw refNotFound(remote, ref)
  }
  await git.raw(['checkout', '--quiet', '--detach', found ? 'FETCH_HEAD' : ref]).catch(fail)
  const commit = (await git.revparse(['HEAD']).catch(fail)).trim()
  if (found?.kind === 'tag') return { commit, refKind: 'tag', tag: found.name }
  return { commit, refKind: found ? 'branch' : 'commit' }
}

function refNotFound(remote: RemoteUrl, ref: string): RegistryError {
  return new RegistryError(
    'STAVILY_ERR_REGISTRY_REF_NOT_FOUND',
    `ref: no tag, branch or commit named "${ref}" in ${redactUrl(remote.url)}`,
    { data: { field: 'ref' } },
  )
}

/** Maps a git failure to a registry error whose message carries no secret. */
function gitError(err: unknown, remote: RemoteUrl, ref: string, secrets: readonly string[]): RegistryError {
  const raw = err instanceof Error ? err.message : String(err)
  const text = redactUrl(redactSecrets(raw, secrets)).trim().slice(0, DEFAULTS.maxErrorOutputChars)
  const where = redactUrl(remote.url)
  if (
    /does not exist|not found|not exported|does not appear to be a git repository|no such (file|repository)|unable to find|repository .* not found/i.test(
      text,
    )
  )
    return new RegistryError(
      'STAVILY_ERR_REGISTRY_REPO_NOT_FOUND',
      `repo: no Git repository at ${where} (${text})`,
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
      `repo: access to ${where} was refused; configure credentials for host "${remote.host}" in the registry (${text})`,
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
    `repo: git failed for ${where} @ ${ref}: ${text}`,
    {
      data: { field: 'repo' },
    },
  )
}
