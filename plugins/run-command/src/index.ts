import { defineAction, ErrorCodes, type ExecOptions, PluginError, Type } from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** A workflow step's output is stored with the run and shown in the CLI: keep the useful end, not megabytes. */
  maxOutputChars: 64 * 1024,
} as const

/** How much of stderr a failure's message quotes: enough to read the error, short enough for a log line. */
const MESSAGE_EXCERPT = 500
/** How much of each stream a failure's data keeps. */
const ERROR_DATA_EXCERPT = 4096

const Config = Type.Object(
  {
    command: Type.String({
      minLength: 1,
      maxLength: 4096,
      pattern: '^[A-Za-z0-9_./+@][A-Za-z0-9_./+@-]*$',
      description:
        'The command to run: a name on the agent PATH or an absolute path. It must be in the manifest (permissions.exec) and granted by the operator',
    }),
    args: Type.Optional(
      Type.Array(Type.String({ maxLength: 4096 }), {
        maxItems: 100,
        description: 'Arguments always passed first (fixed by the workflow author, never templated)',
      }),
    ),
    allowInputOptions: Type.Optional(
      Type.Boolean({
        description: 'Allow input.args to start with "-" (off: input often carries event data)',
      }),
    ),
    allowFailure: Type.Optional(Type.Boolean()),
    cwd: Type.Optional(Type.String({ minLength: 1, pattern: '^/' })),
    env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String())),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
    maxOutputChars: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 * 1024 })),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  {
    args: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 100 })),
    stdin: Type.Optional(Type.String()),
    /** Overrides config.allowFailure for this step. */
    allowFailure: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

const Output = Type.Object({
  command: Type.String(),
  args: Type.Array(Type.String()),
  /** The exit code, or null when the process was killed by a signal. */
  code: Type.Union([Type.Integer(), Type.Null()]),
  signal: Type.Union([Type.String(), Type.Null()]),
  timedOut: Type.Boolean(),
  /** The last maxOutputChars characters of each stream. */
  stdout: Type.String(),
  stderr: Type.String(),
  stdoutTruncated: Type.Boolean(),
  stderrTruncated: Type.Boolean(),
  durationMs: Type.Integer(),
})

/**
 * Runs one command, as an argv without a shell: `config.command` with `config.args`, then
 * `input.args`. The command must be declared in the manifest and granted by the operator
 * (the agent checks both). A non-zero exit, a signal or a timeout fails the step with
 * `RUN_COMMAND_FAILED`, unless `allowFailure` says the workflow handles it.
 */
export default defineAction({
  config: Config,
  input: Input,
  output: Output,

  async run(ctx, input) {
    const { command } = ctx.config
    const inputArgs = input.args ?? []
    if (ctx.config.allowInputOptions !== true) {
      // Input is templated from event data; an argument starting with "-" is how such data
      // would turn into an option of the command (argument injection).
      const index = inputArgs.findIndex((arg) => arg.startsWith('-'))
      if (index >= 0) {
        throw new PluginError(
          ErrorCodes.INVALID_INPUT,
          `input.args[${index}]: ${JSON.stringify(inputArgs[index])} starts with "-"; options belong in config.args, or set config.allowInputOptions`,
          { data: { field: `args[${index}]` } },
        )
      }
    }
    const args = [...(ctx.config.args ?? []), ...inputArgs]
    const options: ExecOptions = {}
    if (ctx.config.timeoutMs !== undefined) options.timeoutMs = ctx.config.timeoutMs
    if (ctx.config.cwd !== undefined) options.cwd = ctx.config.cwd
    if (ctx.config.env !== undefined) options.env = ctx.config.env
    if (input.stdin !== undefined) options.stdin = input.stdin

    const started = Date.now()
    const result = await ctx.exec(command, args, options)
    const durationMs = Math.max(0, Date.now() - started)
    const max = ctx.config.maxOutputChars ?? DEFAULTS.maxOutputChars
    const stdout = tail(result.stdout, max)
    const stderr = tail(result.stderr, max)
    const output = {
      command,
      args,
      code: result.code,
      signal: result.signal,
      timedOut: result.timedOut,
      stdout: stdout.text,
      stderr: stderr.text,
      stdoutTruncated: stdout.truncated,
      stderrTruncated: stderr.truncated,
      durationMs,
    }
    const failed = result.code !== 0 || result.timedOut
    ctx.log.info('command finished', { command, code: result.code, signal: result.signal, durationMs })
    if (failed && (input.allowFailure ?? ctx.config.allowFailure) !== true) {
      const how = result.timedOut
        ? 'timed out'
        : result.code === null
          ? `was killed by ${result.signal ?? 'a signal'}`
          : `exited with code ${result.code}`
      const detail = tail(result.stderr.trim() || result.stdout.trim(), MESSAGE_EXCERPT).text
      throw new PluginError('RUN_COMMAND_FAILED', `${command} ${how}${detail === '' ? '' : `: ${detail}`}`, {
        // A timeout may pass on a second try; an exit code is the command's own answer.
        retryable: result.timedOut,
        // Excerpts only: error data travels in logs and run records.
        data: {
          ...output,
          stdout: tail(result.stdout, ERROR_DATA_EXCERPT).text,
          stderr: tail(result.stderr, ERROR_DATA_EXCERPT).text,
        },
      })
    }
    return output
  },
})

/** The last `max` characters of `text`, so the error that usually ends a log is kept. */
function tail(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false }
  return { text: max === 0 ? '' : text.slice(text.length - max), truncated: true }
}
