// Every limit and default of the registry, each with the reason for its value. Pure
// constants: the agent-side client entry imports this module too.

const DAY_S = 24 * 60 * 60

export const DEFAULTS = {
  /** A shallow clone of a plugin repository is seconds; two minutes covers a slow remote. */
  cloneTimeoutMs: 120_000,
  /** `npm ci` of a plugin's few runtime dependencies; five minutes covers a cold cache. */
  installTimeoutMs: 300_000,
  /** The npm registry plugin dependencies come from; lockfile entries must be its tarballs. */
  npmRegistry: 'https://registry.npmjs.org/',
  /** One isolate per plugin version on every agent: a bundle beyond 4 MiB is a mistake, not a plugin. */
  maxBundleBytes: 4 * 1024 * 1024,
  /** package.json is read into memory before validation; a real manifest is a few KiB. */
  maxManifestBytes: 1024 * 1024,
  /** Git output kept for an error message: enough to show the cause, never a wall of text. */
  maxErrorOutputChars: 2_000,
  /** Build errors listed in one publish failure; the first few are what the author fixes first. */
  maxBuildErrorsShown: 20,

  /** TUF spec version written into every metadata file. */
  tufSpecVersion: '1.0.31',
  /** Root changes only on key rotation; a year between re-signings is the TUF norm. */
  rootExpiresS: 365 * DAY_S,
  /** Targets are re-signed on every publish and yank, and refreshed before they expire. */
  targetsExpiresS: 90 * DAY_S,
  /** Snapshot follows targets; a week bounds how long a stolen snapshot key stays useful. */
  snapshotExpiresS: 7 * DAY_S,
  /** Timestamp is what makes frozen metadata detectable: a day is the agent's freshness bound. */
  timestampExpiresS: 1 * DAY_S,
  /** A role is re-signed lazily once less than this fraction of its lifetime is left. */
  refreshWhenRemaining: 0.5,
  /** Old snapshot/targets versions kept for clients that read timestamp just before a publish. */
  keepMetadataVersions: 32,

  /** Plugins listed per search page by default, and the most one request may ask for. */
  listLimit: 50,
  maxListLimit: 200,

  /** Client: one metadata or artifact download; loopback or LAN registries answer in milliseconds. */
  clientFetchTimeoutMs: 30_000,
  /** Client: metadata older than this is refreshed before the next lookup, so yanks and new versions reach a busy agent within minutes. */
  clientMetadataMaxAgeMs: 5 * 60_000,
  /** Client: largest artifact accepted before the signed length is known (same cap as the build). */
  clientMaxArtifactBytes: 4 * 1024 * 1024,
} as const

/**
 * Packages that exist only on the host: importing them from a plugin would pull host code
 * into the sandbox, where it cannot run. Node built-ins are refused separately.
 */
export const HOST_ONLY_PACKAGES: readonly string[] = [
  '@stavily/sdk/manifest',
  '@stavily/sdk/testing',
  '@stavily/registry',
  '@stavily/agent',
  '@stavily/core',
  'isolated-vm',
]

/** Git URL schemes the registry clones from (plus scp-like `user@host:path`); `ext::` is never allowed. */
export const GIT_PROTOCOLS = ['https', 'http', 'ssh', 'git', 'file'] as const
