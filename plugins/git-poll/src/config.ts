import { ErrorCodes, PluginError, type Static, Type } from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** ls-remote answers in well under a second from a healthy server; a hung one must not hold the check. */
  timeoutMs: 30_000,
  /** Forges list at most 20 commits per push in their webhooks (the rest are counted); the same here. */
  maxCommits: 20,
} as const

/** Limits that are not settings, each with its reason. */
export const LIMITS = {
  /** The most commits one push event may list, whatever the config says. */
  maxCommits: 100,
  /** A commit message is kept to this many characters (a subject and a few paragraphs). */
  messageChars: 2048,
  /**
   * The JSON of one check's events, bytes: they are saved in one state value (64 KiB on an
   * agent) before they are emitted, so a check that found more drops its oldest listed commits.
   */
  eventsBytes: 48 * 1024,
} as const

export const Config = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'The repository: git://, http(s):// or ssh:// URL, without credentials',
    }),
    branches: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
      minItems: 1,
      maxItems: 100,
      description: 'Branch names to watch (refs/heads/<name>)',
    }),
    repository: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'The name in events (default: the URL path without .git)',
      }),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 120_000 })),
    mirror: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1024,
        description:
          'An absolute folder the operator granted (fs.read): the sensor keeps a bare mirror there and lists the commits of each push',
      }),
    ),
    maxCommits: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100,
        description: 'Commits listed per push (the rest are counted)',
      }),
    ),
  },
  { additionalProperties: false },
)

export type GitPollConfig = Static<typeof Config>

export interface Settings {
  url: string
  branches: string[]
  repository: string
  timeoutMs: number
  /** The folder holding the bare mirror, or null: ls-remote only, no commits. */
  mirror: string | null
  maxCommits: number
}

// The sandbox has no URL class: scheme, optional user (never a password), host, path.
const URL_PARTS = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?([^/?#@]+)(\/[^?#]*)?$/i
const SCHEMES = ['git', 'http', 'https', 'ssh']

export function checkConfig(config: GitPollConfig): Settings {
  const parts = URL_PARTS.exec(config.url)
  if (parts === null) {
    throw invalid('url', `${JSON.stringify(config.url)} is not a URL (expected git://, http(s):// or ssh://)`)
  }
  const [, scheme, user, host, pathname] = parts
  if (!SCHEMES.includes(scheme!.toLowerCase())) {
    throw invalid('url', `scheme "${scheme}:" is not one of git:, http:, https:, ssh:`)
  }
  if (user?.includes(':')) {
    // The URL is an argument of the command (seen by ps, kept in the audit): never a password.
    throw invalid(
      'url',
      'must not carry a password; use a read-only public URL or ssh with a key the agent user holds',
    )
  }
  const seen = new Set<string>()
  config.branches.forEach((branch, i) => {
    if (!isBranchName(branch)) {
      throw invalid(
        `branches[${i}]`,
        `${JSON.stringify(branch)} is not a valid branch name (git check-ref-format)`,
      )
    }
    if (seen.has(branch)) throw invalid(`branches[${i}]`, `${JSON.stringify(branch)} is listed twice`)
    seen.add(branch)
  })
  if (config.mirror !== undefined) checkMirror(config.mirror)
  const path = (pathname ?? '').replace(/^\/+/, '').replace(/\.git\/?$/, '')
  return {
    url: config.url,
    branches: [...config.branches],
    repository: config.repository ?? (path === '' ? host! : path),
    timeoutMs: config.timeoutMs ?? DEFAULTS.timeoutMs,
    mirror: config.mirror === undefined ? null : config.mirror.replace(/\/+$/, ''),
    maxCommits: config.maxCommits ?? DEFAULTS.maxCommits,
  }
}

/** An absolute folder, written plainly: the agent checks it against the grant as written. */
function checkMirror(mirror: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (!mirror.startsWith('/') || /[\x00-\x1f\x7f]/.test(mirror)) {
    throw invalid('mirror', `must be an absolute folder path, got ${JSON.stringify(mirror)}`)
  }
  if (mirror.split('/').some((part) => part === '..' || part === '.')) {
    throw invalid('mirror', `must not contain "." or ".." parts, got ${JSON.stringify(mirror)}`)
  }
  if (mirror.replace(/\/+$/, '') === '') throw invalid('mirror', 'must be a folder below /, not / itself')
}

/** git check-ref-format's rules for a branch name, so the ls-remote pattern is exact. */
export function isBranchName(name: string): boolean {
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false
  if (name.includes('..') || name.includes('//') || name.includes('@{') || name === '@') return false
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false
  return name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'))
}

function invalid(field: string, message: string): PluginError {
  return new PluginError(ErrorCodes.INVALID_CONFIG, `config.${field}: ${message}`, { data: { field } })
}
