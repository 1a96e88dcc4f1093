// The registry's one list of errors: a stable code and the HTTP status it maps to when it
// crosses HTTP (http/error-handler.ts). This module imports nothing, so the agent-side client
// entry can use it without pulling in the server's dependencies.

export const REGISTRY_ERRORS = {
  /** A programmatic or HTTP argument is malformed; the message names the field. */
  STAVILY_ERR_REGISTRY_INVALID_ARGUMENT: 400,
  STAVILY_ERR_REGISTRY_UNAUTHORIZED: 401,
  STAVILY_ERR_REGISTRY_FORBIDDEN: 403,
  STAVILY_ERR_REGISTRY_PLUGIN_NOT_FOUND: 404,
  STAVILY_ERR_REGISTRY_VERSION_NOT_FOUND: 404,
  STAVILY_ERR_REGISTRY_NO_MATCHING_VERSION: 404,
  STAVILY_ERR_REGISTRY_METADATA_NOT_FOUND: 404,
  STAVILY_ERR_REGISTRY_ARTIFACT_NOT_FOUND: 404,
  /** The same version was published before with another bundle: versions are immutable. */
  STAVILY_ERR_REGISTRY_VERSION_EXISTS: 409,
  STAVILY_ERR_REGISTRY_REPO_NOT_FOUND: 422,
  /** The remote is file:// or a non-public address and the registry's `remotes` policy does not allow it. */
  STAVILY_ERR_REGISTRY_REMOTE_REFUSED: 403,
  STAVILY_ERR_REGISTRY_REF_NOT_FOUND: 422,
  STAVILY_ERR_REGISTRY_GIT_FAILED: 422,
  STAVILY_ERR_REGISTRY_MANIFEST_MISSING: 422,
  STAVILY_ERR_REGISTRY_MANIFEST_INVALID: 422,
  STAVILY_ERR_REGISTRY_VERSION_MISMATCH: 422,
  STAVILY_ERR_REGISTRY_SDK_INCOMPATIBLE: 422,
  STAVILY_ERR_REGISTRY_LOCKFILE_MISSING: 422,
  /** A lockfile entry is not a tarball of the configured npm registry (git, file:, link: or another host). */
  STAVILY_ERR_REGISTRY_LOCKFILE_INVALID: 422,
  STAVILY_ERR_REGISTRY_INSTALL_FAILED: 422,
  STAVILY_ERR_REGISTRY_BUILD_FAILED: 422,
  /** The bundle imports Node built-ins or host-only packages; every offender is listed. */
  STAVILY_ERR_REGISTRY_FORBIDDEN_IMPORT: 422,
  STAVILY_ERR_REGISTRY_BUNDLE_TOO_LARGE: 422,
  /** A file of the repository is a symlink leading outside it; every such file is listed. */
  STAVILY_ERR_REGISTRY_SYMLINK_OUTSIDE: 422,
  /** Client side: metadata or an artifact failed TUF verification; `data.reason` says why. */
  STAVILY_ERR_REGISTRY_VERIFY_FAILED: 502,
  /** Client side: the signed targets do not list the requested plugin version. */
  STAVILY_ERR_REGISTRY_TARGET_NOT_FOUND: 404,
  /** Key configuration is unusable (bad PEM, wrong type, keys that do not match the stored root). */
  STAVILY_ERR_REGISTRY_KEYS: 500,
  STAVILY_ERR_REGISTRY_MIGRATION: 500,
  STAVILY_ERR_REGISTRY_STORAGE: 500,
  /** HTTP: an unexpected failure; answered without details. */
  STAVILY_ERR_REGISTRY_INTERNAL: 500,
} as const

export type RegistryErrorCode = keyof typeof REGISTRY_ERRORS

export class RegistryError extends Error {
  readonly code: RegistryErrorCode
  readonly statusCode: number
  readonly data: Record<string, unknown> | undefined

  constructor(
    code: RegistryErrorCode,
    message: string,
    options?: { cause?: unknown; data?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'RegistryError'
    this.code = code
    this.statusCode = REGISTRY_ERRORS[code]
    this.data = options?.data
  }

  toJSON(): { code: RegistryErrorCode; message: string; data?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.data ? { data: this.data } : {}) }
  }
}

export function isRegistryError(err: unknown, code?: RegistryErrorCode): err is RegistryError {
  return err instanceof RegistryError && (code === undefined || err.code === code)
}

/** An argument problem: the message names the field and what was expected. */
export function invalidArgument(field: string, expected: string, got?: unknown): RegistryError {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 120)}`
  return new RegistryError('STAVILY_ERR_REGISTRY_INVALID_ARGUMENT', `${field}: ${expected}${shown}`, {
    data: { field },
  })
}
