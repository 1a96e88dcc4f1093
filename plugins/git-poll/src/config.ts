import { ErrorCodes, PluginError, type Static, Type } from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** ls-remote answers in well under a second from a healthy server; a hung one must not hold the check. */
  timeoutMs: 30_000,
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
  },
  { additionalProperties: false },
)

export type GitPollConfig = Static<typeof Config>

export interface Settings {
  url: string
  branches: string[]
  repository: string
  timeoutMs: number
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
  const path = (pathname ?? '').replace(/^\/+/, '').replace(/\.git\/?$/, '')
  return {
    url: config.url,
    branches: [...config.branches],
    repository: config.repository ?? (path === '' ? host! : path),
    timeoutMs: config.timeoutMs ?? DEFAULTS.timeoutMs,
  }
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
