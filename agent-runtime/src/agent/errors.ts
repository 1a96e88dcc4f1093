// Errors of the agent process, by stable code (docs/deploying-agents.md lists them).

export const AgentErrorCodes = {
  /** The configuration is missing a field or has a bad value (exit code 2). */
  CONFIG: 'STAVILY_ERR_AGENT_CONFIG',
  /** The orchestrator refused this agent's credential or enrollment token (exit code 3). */
  UNAUTHORIZED: 'STAVILY_ERR_AGENT_UNAUTHORIZED',
  /** The orchestrator answered a request with a 4xx the agent cannot recover from. */
  REFUSED: 'STAVILY_ERR_AGENT_REFUSED',
  /** A plugin artifact failed verification (tampered, bad signature, expired metadata). */
  PLUGIN_REFUSED: 'STAVILY_ERR_AGENT_PLUGIN_REFUSED',
  /** The agent's own allow list (--allow-plugin / allowPlugins) does not allow this plugin or version. */
  PLUGIN_NOT_ALLOWED: 'STAVILY_ERR_AGENT_PLUGIN_NOT_ALLOWED',
  /** The instruction names a plugin that is not in this agent's desired set or not loaded. */
  PLUGIN_UNAVAILABLE: 'STAVILY_ERR_AGENT_PLUGIN_UNAVAILABLE',
  /** The agent shut down before the call finished; the work is handed back for a retry. */
  SHUTDOWN: 'STAVILY_ERR_AGENT_SHUTDOWN',
  /** A result broke the agent API's rules (too large, nested too deep); what could be reported instead. */
  REPORT_INVALID: 'STAVILY_ERR_AGENT_REPORT_INVALID',
  /** The orchestrator refused a result (or failed on it repeatedly); the original is in outbox-quarantine/. */
  REPORT_REFUSED: 'STAVILY_ERR_AGENT_REPORT_REFUSED',
} as const

export type AgentErrorCode = (typeof AgentErrorCodes)[keyof typeof AgentErrorCodes]

export class AgentError extends Error {
  readonly code: AgentErrorCode
  readonly field: string | undefined
  readonly retryable: boolean
  readonly data: unknown

  constructor(
    code: AgentErrorCode,
    message: string,
    options: { field?: string; retryable?: boolean; data?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'AgentError'
    this.code = code
    this.field = options.field
    this.retryable = options.retryable ?? false
    this.data = options.data
  }
}

export function configError(field: string, message: string): AgentError {
  return new AgentError(AgentErrorCodes.CONFIG, `${field}: ${message}`, { field })
}
