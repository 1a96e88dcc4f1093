// @stavily/registry: build, version, sign and serve plugins from Git. The orchestrator
// creates one registry over its SqlClient and mounts `registryRoutes`; agents import
// `@stavily/registry/client` instead (no server dependencies).

export type { BundleOptions } from './build/bundle.ts'
export type { PublishInput } from './checks.ts'
export { DEFAULTS as REGISTRY_DEFAULTS, HOST_ONLY_PACKAGES } from './defaults.ts'
export {
  invalidArgument,
  isRegistryError,
  REGISTRY_ERRORS,
  RegistryError,
  type RegistryErrorCode,
} from './errors.ts'
export { checkCredentials as checkGitCredentials, type GitCredential } from './git/credentials.ts'
export { isPublicAddress, type RemotePolicy } from './git/remote-policy.ts'
export { registryErrorHandler } from './http/error-handler.ts'
export { type RegistryAction, type RegistryRoutesOptions, registryRoutes } from './http/routes.ts'
export { BUILDER } from './publish/publish.ts'
export { createRegistry, type Registry, type RegistryOptions } from './registry.ts'
export { DEFAULT_SCHEMA as DEFAULT_REGISTRY_SCHEMA } from './storage/identifiers.ts'
export { migrate as migrateRegistry } from './storage/migrate.ts'
export type { SqlClient } from './storage/sql-client.ts'
export { generateKeyPem } from './tuf/keys.ts'
export type { Expiry } from './tuf/repository.ts'
export type { KeyConfig, RoleKeyConfig } from './tuf/roles.ts'
export type {
  PluginSummary,
  PluginVersion,
  Provenance,
  Publisher,
  PublishProgress,
  PublishResult,
  PublishStep,
  TargetCustom,
} from './types.ts'
