// @stavily/registry/client: what agents (and the `stavily plugin verify` command) import to
// download and verify plugin artifacts. Only tuf-js, @tufjs/models and Node built-ins: no
// server dependency (fastify, pg, esbuild, simple-git) may reach this entry — a test checks.

export { isRegistryError, RegistryError, type RegistryErrorCode } from '../errors.ts'
export { parseTargetPath, targetPath } from '../tuf/target-path.ts'
export type { TargetCustom } from '../types.ts'
export {
  RegistryClient,
  type RegistryClientOptions,
  type SignedTarget,
  type VerifiedArtifact,
  verify,
} from './registry-client.ts'
export { type CommandIo, runPluginVerify, VERIFY_USAGE } from './verify-command.ts'
export { classify as classifyVerifyFailure, type VerifyFailure } from './verify-errors.ts'
