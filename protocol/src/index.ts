export {
  AcceptBody,
  AcceptReply,
  CancelList,
  EventsReply,
  HeartbeatBody,
  HeartbeatReply,
  Intervals,
  LABEL_KEY_PATTERN,
  PluginsReply,
  POOL_PATTERN,
  PollQuery,
  PollReply,
  RegisterBody,
  RegisterReply,
  ResultReply,
  RotateReply,
  SecretGrants,
  UUID_PATTERN,
  WireInstruction,
} from './agent-api.ts'
export {
  AGENT_API_LIMITS,
  EventsBody,
  ResultBody,
  ResultError,
  ResultQuery,
  WireEvent,
} from './agent-reports.ts'
export { DEV_PRERELEASE, isDevPool, isDevVersion } from './dev-versions.ts'
export {
  LOADED_PLUGIN_LIMITS,
  LoadedPlugin,
  LoadedPlugins,
} from './loaded-plugins.ts'
export { eventProblem, type ReportProblem, resultProblem, schemaProblem } from './report-check.ts'
export {
  CLIPPED_MESSAGE,
  clipLogs,
  normalizeLog,
  type ResultLog,
  type ResultLogLevel,
} from './result-logs.ts'
export {
  findWireProblem,
  stringProblem,
  toWireSafe,
  toWireSafeString,
  WIRE_LIMITS,
  type WireProblem,
} from './wire-value.ts'
