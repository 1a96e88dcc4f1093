import type { ApiClient } from './api-client.ts'
import type { CliIo } from './io.ts'
import type { Output } from './output.ts'

// How a command describes itself: its words, arguments and options (the parser and the
// help read the same description, so help never drifts from what is accepted).

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  /** The value's placeholder in help: `--pool POOL`. */
  value?: string
  description: string
}

export interface ArgSpec {
  name: string
  required: boolean
  description: string
}

export interface CommandContext {
  io: CliIo
  args: string[]
  opts: Record<string, string | boolean | string[] | undefined>
  json: boolean
  out: Output
  /** The API client for the configured orchestrator; fails with exit 3 when there is no token. */
  client(): Promise<ApiClient>
}

export interface CommandSpec {
  /** The words after `stavily`: `['workflow', 'apply']`. */
  words: string[]
  summary: string
  args: ArgSpec[]
  options: Record<string, OptionSpec>
  /** More text for `--help`. */
  details?: string
  examples?: string[]
  /** Parses nothing itself: `plugin verify` hands its arguments to the registry's command. */
  passThrough?: boolean
  run(ctx: CommandContext): Promise<number>
}

export interface GroupSpec {
  name: string
  summary: string
  commands: CommandSpec[]
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: "print the API's answer as JSON (for scripts)" },
  url: {
    type: 'string',
    value: 'URL',
    description: 'orchestrator URL (overrides STAVILY_URL and the config file)',
  },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
}
