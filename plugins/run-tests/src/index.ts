import { defineAction, ErrorCodes, type ExecOptions, isPluginError, PluginError, Type } from '@stavily/sdk'
import { type JunitSummary, summarizeJunit } from './junit.ts'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** The end of a test run's output is where the summary and the last failure are. */
  tailChars: 4000,
  /** Enough failing names to act on; a run where hundreds fail needs the report itself. */
  maxFailures: 50,
} as const

/** How much of the output tail a failure's message quotes. */
const MESSAGE_NAMES = 5

const Config = Type.Object(
  {
    command: Type.String({
      minLength: 1,
      maxLength: 4096,
      pattern: '^[A-Za-z0-9_./+@][A-Za-z0-9_./+@-]*$',
      description: 'The test runner: a name on the agent PATH or an absolute path, declared and granted',
    }),
    args: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 100 })),
    cwd: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        pattern: '^/',
        description: 'The project folder (fs.read)',
      }),
    ),
    env: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String())),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
    junitPath: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 4096,
        pattern: '^/',
        description:
          'Where the command writes its JUnit XML report (fs.read and fs.write: cleared before the run)',
      }),
    ),
    tailChars: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_536 })),
    maxFailures: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    allowInputOptions: Type.Optional(Type.Boolean()),
    allowFailure: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  {
    /** Appended to config.args: a test file or a filter, often from event data. */
    args: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 100 })),
    allowFailure: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

const Report = Type.Object({
  tests: Type.Integer(),
  passed: Type.Integer(),
  failed: Type.Integer(),
  skipped: Type.Integer(),
  failures: Type.Array(
    Type.Object({
      name: Type.String(),
      classname: Type.Union([Type.String(), Type.Null()]),
      message: Type.String(),
    }),
  ),
  failuresTruncated: Type.Boolean(),
})

const Output = Type.Object({
  /** Exit code 0, no timeout, and no failed test in the report. */
  passed: Type.Boolean(),
  code: Type.Union([Type.Integer(), Type.Null()]),
  signal: Type.Union([Type.String(), Type.Null()]),
  timedOut: Type.Boolean(),
  durationMs: Type.Integer(),
  /** The last tailChars characters of stdout and of stderr. */
  stdoutTail: Type.String(),
  stderrTail: Type.String(),
  /** The JUnit report's counts, or null without config.junitPath or a readable report. */
  report: Type.Union([Report, Type.Null()]),
  /** Why `report` is null although config.junitPath is set (not written, not JUnit XML). */
  reportProblem: Type.Union([Type.String(), Type.Null()]),
})

/**
 * Runs a test command (argv, no shell) and reports how it went: exit code, duration, the end
 * of its output and, from a JUnit XML report, the counts and the failing tests' names.
 */
export default defineAction({
  config: Config,
  input: Input,
  output: Output,

  async run(ctx, input) {
    const { command, junitPath } = ctx.config
    const inputArgs = input.args ?? []
    if (ctx.config.allowInputOptions !== true) {
      // Input is templated from event data: "-" is how such data would become an option.
      const index = inputArgs.findIndex((arg) => arg.startsWith('-'))
      if (index >= 0) {
        throw new PluginError(
          ErrorCodes.INVALID_INPUT,
          `input.args[${index}]: ${JSON.stringify(inputArgs[index])} starts with "-"; options belong in config.args, or set config.allowInputOptions`,
          { data: { field: `args[${index}]` } },
        )
      }
    }
    // A report left by an earlier run must not be read as this run's: cleared first (this
    // also proves the path is within the write grant before anything runs).
    if (junitPath !== undefined) await ctx.fs.writeText(junitPath, '')

    const options: ExecOptions = {}
    if (ctx.config.timeoutMs !== undefined) options.timeoutMs = ctx.config.timeoutMs
    if (ctx.config.cwd !== undefined) options.cwd = ctx.config.cwd
    if (ctx.config.env !== undefined) options.env = ctx.config.env
    const args = [...(ctx.config.args ?? []), ...inputArgs]
    const started = Date.now()
    const result = await ctx.exec(command, args, options)
    const durationMs = Math.max(0, Date.now() - started)

    let report: JunitSummary | null = null
    let reportProblem: string | null = null
    if (junitPath !== undefined) {
      const read = await readReport(
        ctx.fs.readText,
        junitPath,
        ctx.config.maxFailures ?? DEFAULTS.maxFailures,
      )
      report = read.report
      reportProblem = read.problem
      if (reportProblem !== null)
        ctx.log.warn('no usable JUnit report', { path: junitPath, problem: reportProblem })
    }
    const tailChars = ctx.config.tailChars ?? DEFAULTS.tailChars
    const passed = result.code === 0 && !result.timedOut && (report === null || report.failed === 0)
    const output = {
      passed,
      code: result.code,
      signal: result.signal,
      timedOut: result.timedOut,
      durationMs,
      stdoutTail: tail(result.stdout, tailChars),
      stderrTail: tail(result.stderr, tailChars),
      report,
      reportProblem,
    }
    ctx.log.info('tests finished', {
      command,
      code: result.code,
      durationMs,
      ...(report ? { tests: report.tests, failed: report.failed, skipped: report.skipped } : {}),
    })
    if (!passed && (input.allowFailure ?? ctx.config.allowFailure) !== true) {
      throw new PluginError('RUN_TESTS_FAILED', failureMessage(command, result, report), {
        // A timeout may pass on a second try; a failing test is the suite's own answer.
        retryable: result.timedOut,
        data: output,
      })
    }
    return output
  },
})

async function readReport(
  readText: (path: string) => Promise<string>,
  path: string,
  maxFailures: number,
): Promise<{ report: JunitSummary | null; problem: string | null }> {
  let text: string
  try {
    text = await readText(path)
  } catch (err) {
    if (isPluginError(err) && (err.data as { errno?: unknown } | undefined)?.errno === 'ENOENT') {
      return { report: null, problem: `the command wrote no report at ${path}` }
    }
    throw err
  }
  if (text.trim() === '') return { report: null, problem: `the command wrote no report at ${path}` }
  try {
    return { report: summarizeJunit(text, maxFailures), problem: null }
  } catch (err) {
    return { report: null, problem: `${path} is not a JUnit XML report: ${(err as Error).message}` }
  }
}

function failureMessage(
  command: string,
  result: { code: number | null; signal: string | null; timedOut: boolean },
  report: JunitSummary | null,
): string {
  if (result.timedOut) return `${command} timed out`
  if (report !== null && report.failed > 0) {
    const names = report.failures.slice(0, MESSAGE_NAMES).map((f) => f.name)
    const more = report.failed - names.length
    return `${report.failed} of ${report.tests} tests failed: ${names.join('; ')}${more > 0 ? ` and ${more} more` : ''}`
  }
  if (result.code === null) return `${command} was killed by ${result.signal ?? 'a signal'}`
  return `${command} exited with code ${result.code}`
}

/** The last `max` characters of `text`: a test run's summary is at its end. */
function tail(text: string, max: number): string {
  return text.length <= max ? text : max === 0 ? '' : text.slice(text.length - max)
}
