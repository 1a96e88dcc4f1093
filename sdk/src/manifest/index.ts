// @stavily/sdk/manifest: the host side of the plugin contract (registry, agent,
// orchestrator, test harness). Runs in Node; may import typebox and semver.

export type { PluginKind } from '../definition.ts'
export { SDK_API_VERSION } from '../version.ts'
export { type BuiltinImport, builtinsMessage, isNodeBuiltin, nodeBuiltinsGuard } from './builtins-guard.ts'
export { PLUGIN_BUNDLE_GLOBAL, PLUGIN_BUNDLE_OPTIONS, type PluginBundleOptions } from './bundle-options.ts'
export {
  MAIL_MAX_RECIPIENTS,
  mailMessageProblem,
  SQL_CHANNEL,
  SQL_DEFAULT_ROWS,
  SQL_MAX_PARAMS,
  SQL_MAX_ROWS,
  SQL_MAX_TEXT,
  sqlChannelProblem,
  sqlParamsProblem,
  sqlTextProblem,
} from './capability-args.ts'
export { ENV_NAME, envAllowed, envEntryProblem, reservedEnvReason } from './env-names.ts'
export { isPathUnder, normalizeAbsolutePath } from './fs-path.ts'
export { describePermissionEntry, GRANTED, type GrantedNet } from './granted.ts'
export {
  type HostPattern,
  matchHostPattern,
  type ParsedHostPattern,
  parseHostPattern,
} from './host-pattern.ts'
export { ManifestError } from './manifest-error.ts'
export {
  createPermissionGuard,
  type NetTarget,
  type PermissionDeniedData,
  type PermissionGuard,
  type PermissionName,
} from './permission-guard.ts'
export { CONNECTION_NAME, PERMISSION_NAMES, SECRET_NAME } from './permission-rules.ts'
export { assertValid, assertValidEvent, schemaProblems, type ValueRole } from './schema-check.ts'
export { assertSdkCompatible, isSdkCompatible } from './sdk-compat.ts'
export { TEXT_ENCODER_CLASS, TEXT_ENCODER_SHIM, TEXT_ENCODER_SHIM_END } from './text-encoder-shim.ts'
export type { Grants, ManifestProblem, Permissions, PluginManifest } from './types.ts'
export { type ManifestValidation, parseManifest, validateManifest } from './validate-manifest.ts'
