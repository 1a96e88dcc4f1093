// @stavily/agent: the plugin sandbox (and, later, the agent process built on it).

// The agent's configuration as `stavily-agent` reads it (argv, environment, config file):
// the dev command and the whole-platform tests check what an agent would be granted.
export { type AgentConfig, loadConfig } from './agent/config.ts'
export {
  DEFAULT_LIMITS,
  EXEC_DEFAULTS,
  MIN_LIMITS,
  type PluginLimits,
  SUPERVISOR_DEFAULTS,
  type SupervisorSettings,
} from './defaults.ts'
export {
  fromSerialized,
  SandboxError,
  type SandboxErrorCode,
  SandboxErrorCodes,
  type SerializedError,
} from './errors.ts'
export { ISOLATED_VM_CANDIDATES, loadIsolatedVm } from './isolated-vm.ts'
export type { PluginSpec } from './sandbox/agent-side/load-spec.ts'
export {
  createFileStateStore,
  createMemoryStateStore,
  type StateStore,
  type StateValue,
} from './sandbox/agent-side/state-store.ts'
export { classifyAddress } from './sandbox/host/capabilities/address-policy.ts'
export type {
  CallStats,
  InvokeResult,
  LogEntry,
  Operation,
  PluginEvent,
  PluginKind,
} from './sandbox/protocol.ts'
export {
  createSandbox,
  type InvokeOptions,
  type LoadedPlugin,
  type PluginStats,
  type Sandbox,
  type SandboxOptions,
  type SandboxStats,
  type SwapResult,
} from './sandbox/sandbox.ts'
