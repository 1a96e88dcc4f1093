// @stavily/sdk: the plugin contract. This entry is bundled INTO every plugin and runs inside
// the sandbox, so it imports only `typebox` and uses nothing beyond ECMAScript: no Node
// built-ins, no `process`, no timers (sdk/test/sandbox-safety.test.ts proves it).
export { type Static, type TSchema, Type } from 'typebox'
export type {
  ActionContext,
  Batch,
  Context,
  EmittedEvent,
  ExecOptions,
  ExecResult,
  Fetch,
  FetchInit,
  FetchResponse,
  Fs,
  FsChange,
  Logger,
  MailMessage,
  OutputContext,
  ReadonlyFs,
  Secrets,
  SensorContext,
  SensorFs,
  SensorSql,
  Smtp,
  SmtpResult,
  Sql,
  SqlNotification,
  SqlParam,
  SqlQueryOptions,
  SqlResult,
  StateStore,
  Subscription,
} from './context.ts'
export { defineAction } from './define-action.ts'
export { defineOutput } from './define-output.ts'
export { defineSensor } from './define-sensor.ts'
export type {
  ActionDefinition,
  ActionSpec,
  ConfigOf,
  MaybePromise,
  OutputDefinition,
  OutputResult,
  OutputSpec,
  PluginDefinition,
  PluginKind,
  SensorDefinition,
  SensorSpec,
} from './definition.ts'
export { emitReliably, flushPendingEvents, type ReliableEmitContext } from './emit-reliably.ts'
export {
  deserializeError,
  type ErrorCode,
  ErrorCodes,
  isPluginError,
  PluginError,
  type PluginErrorOptions,
  type SerializedError,
  serializeError,
} from './errors.ts'
export { fingerprint } from './fingerprint.ts'
export { bodyExcerpt, isConfigurationError, isRetryableStatus } from './http-failure.ts'
export type { JsonValue } from './json.ts'
export { toPlainJson } from './plain-json.ts'
export { ComparisonOperator, compareToThreshold } from './threshold.ts'
export { SDK_API_VERSION } from './version.ts'
