import { type ActionContext, defineAction, isPluginError, PluginError, type Static, Type } from '@stavily/sdk'
import { unifiedDiff } from './diff.ts'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** A diff to read in a run's record or a chat message; the file itself holds the rest. */
  maxDiffChars: 16 * 1024,
} as const

/** Where a validate or reload argv puts the candidate file's path. */
const FILE_PLACEHOLDER = '{file}'
const MESSAGE_EXCERPT = 500

const Argv = Type.Array(Type.String({ maxLength: 4096 }), { minItems: 1, maxItems: 100 })

const Config = Type.Object(
  {
    path: Type.String({
      minLength: 2,
      maxLength: 4096,
      pattern: '^/',
      description: 'The config file (fs.read and fs.write on its folder)',
    }),
    validate: Type.Optional(Argv),
    reload: Type.Optional(Argv),
    keepPrevious: Type.Optional(Type.Boolean()),
    mode: Type.Optional(
      Type.String({ pattern: '^0?[0-7]{3}$', description: 'Mode of a file created new, e.g. "0640"' }),
    ),
    preserveOwner: Type.Optional(Type.Boolean()),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
    maxDiffChars: Type.Optional(Type.Integer({ minimum: 0, maximum: 256 * 1024 })),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  {
    /** The file's new content: rendered by the workflow engine from the step's templates. */
    content: Type.String({ maxLength: 4 * 1024 * 1024 }),
  },
  { additionalProperties: false },
)

const Output = Type.Object({
  path: Type.String(),
  /** false: the file already held this content; nothing was written, validated or reloaded. */
  changed: Type.Boolean(),
  /** Unified diff from the previous content (empty when unchanged). */
  diff: Type.String(),
  diffTruncated: Type.Boolean(),
  /** Where the previous version was kept, or null. */
  previous: Type.Union([Type.String(), Type.Null()]),
  created: Type.Boolean(),
  validated: Type.Boolean(),
  reloaded: Type.Boolean(),
  durationMs: Type.Integer(),
})

type Config = Static<typeof Config>
type Ctx = ActionContext<Config>

/**
 * Replaces a config file with `input.content` atomically (a temporary file in the same
 * folder, its mode and owner copied from the file, then a rename), keeps the previous
 * version, runs an optional validate and reload command, and puts the previous content
 * back (and reloads it) when either fails. The same content twice writes nothing.
 */
export default defineAction({
  config: Config,
  input: Input,
  output: Output,

  async run(ctx, input) {
    const started = Date.now()
    const { path } = ctx.config
    const pendingKey = `reload-pending:${path}`
    const current = await readCurrent(ctx, path)
    const base = {
      path,
      previous: null as string | null,
      created: current === null,
      durationMs: 0,
    }
    if (current === input.content) {
      // A retry whose first attempt wrote the file but did not finish its reload finishes it.
      const pending = await ctx.state.get(pendingKey)
      if (pending !== ctx.idempotencyKey) {
        ctx.log.info('config unchanged', { path })
        return {
          ...base,
          created: false,
          changed: false,
          diff: '',
          diffTruncated: false,
          validated: false,
          reloaded: false,
          durationMs: Math.max(0, Date.now() - started),
        }
      }
    }

    // What a failure puts back: the content found, or, on a retry finishing an earlier
    // attempt's reload, the version that attempt kept (undefined: nothing known to put back).
    let rollbackTo: string | null | undefined = current
    if (current === input.content) {
      rollbackTo =
        ctx.config.keepPrevious === false
          ? undefined
          : ((await readCurrent(ctx, `${path}.previous`)) ?? undefined)
    }
    const validate = ctx.config.validate
    const validatesCandidate = validate?.some((arg) => arg.includes(FILE_PLACEHOLDER)) ?? false
    let validated = false
    let installed = false
    if (current !== input.content) {
      const tmp = tempPath(ctx, path)
      await ctx.fs.writeText(tmp, input.content)
      try {
        await copyAttributes(ctx, current === null ? null : path, tmp)
        if (validate && validatesCandidate) {
          await check(ctx, 'UPDATE_CONFIG_INVALID', validate, tmp, 'the new content was not installed')
          validated = true
        }
        if (current !== null && ctx.config.keepPrevious !== false) {
          base.previous = `${path}.previous`
          await installAtomically(ctx, `${path}.previous`, current, path)
        }
        await ctx.state.set(pendingKey, ctx.idempotencyKey)
        await mustRun(ctx, 'UPDATE_CONFIG_FAILED', 'mv', ['-f', '--', tmp, path])
        installed = true
      } finally {
        if (!installed) await ctx.exec('rm', ['-f', '--', tmp]).catch(() => undefined)
      }
    }

    try {
      if (validate && !validatesCandidate) {
        await check(ctx, 'UPDATE_CONFIG_INVALID', validate, path, 'the previous content was put back')
        validated = true
      }
      if (ctx.config.reload)
        await check(
          ctx,
          'UPDATE_CONFIG_RELOAD_FAILED',
          ctx.config.reload,
          path,
          'the previous content was put back',
        )
    } catch (err) {
      if (rollbackTo === undefined) ctx.log.error('no previous version to put back', { path })
      else await rollBack(ctx, path, rollbackTo)
      if (ctx.config.reload && isPluginError(err) && err.code === 'UPDATE_CONFIG_RELOAD_FAILED') {
        // The service may have half-applied the new file: reload the previous one.
        const again = await ctx.exec(
          ctx.config.reload[0]!,
          substitute(ctx.config.reload.slice(1), path),
          timeout(ctx),
        )
        ctx.log.warn('reloaded the previous content', { path, code: again.code })
      }
      await ctx.state.delete(pendingKey)
      throw err
    }
    await ctx.state.delete(pendingKey)

    const max = ctx.config.maxDiffChars ?? DEFAULTS.maxDiffChars
    const fullDiff = unifiedDiff(current ?? '', input.content, current === null ? '/dev/null' : path, path)
    const diffTruncated = fullDiff.length > max
    ctx.log.info('config updated', { path, validated, reloaded: ctx.config.reload !== undefined })
    return {
      ...base,
      changed: current !== input.content,
      diff: diffTruncated ? fullDiff.slice(0, max) : fullDiff,
      diffTruncated,
      validated,
      reloaded: ctx.config.reload !== undefined,
      durationMs: Math.max(0, Date.now() - started),
    }
  },
})

async function readCurrent(ctx: Ctx, path: string): Promise<string | null> {
  try {
    return await ctx.fs.readText(path)
  } catch (err) {
    if (isPluginError(err) && (err.data as { errno?: unknown } | undefined)?.errno === 'ENOENT') return null
    throw err
  }
}

/** A temporary file beside the target (a rename within one folder is atomic). */
function tempPath(ctx: Ctx, path: string): string {
  const slash = path.lastIndexOf('/')
  // The name keeps the file's own at its end, so a validator that goes by the extension
  // (.json, .yml) reads the candidate as it will read the file.
  return `${path.slice(0, slash)}/.stavily-${ctx.invocationId.slice(0, 8)}.${path.slice(slash + 1)}`
}

/** Gives `file` the mode (and owner) of `reference`, or config.mode for a new file. */
async function copyAttributes(ctx: Ctx, reference: string | null, file: string): Promise<void> {
  if (reference === null) {
    if (ctx.config.mode !== undefined)
      await mustRun(ctx, 'UPDATE_CONFIG_FAILED', 'chmod', [ctx.config.mode, '--', file])
    return
  }
  await mustRun(ctx, 'UPDATE_CONFIG_FAILED', 'chmod', [`--reference=${reference}`, '--', file])
  if (ctx.config.preserveOwner !== false) {
    await mustRun(ctx, 'UPDATE_CONFIG_FAILED', 'chown', [`--reference=${reference}`, '--', file])
  }
}

/** Writes `text` to `target` through a temporary file and a rename, with `reference`'s attributes. */
async function installAtomically(
  ctx: Ctx,
  target: string,
  text: string,
  reference: string | null,
): Promise<void> {
  const tmp = tempPath(ctx, target)
  await ctx.fs.writeText(tmp, text)
  try {
    await copyAttributes(ctx, reference, tmp)
    await mustRun(ctx, 'UPDATE_CONFIG_FAILED', 'mv', ['-f', '--', tmp, target])
  } catch (err) {
    await ctx.exec('rm', ['-f', '--', tmp]).catch(() => undefined)
    throw err
  }
}

async function rollBack(ctx: Ctx, path: string, previous: string | null): Promise<void> {
  if (previous === null) {
    await mustRun(ctx, 'UPDATE_CONFIG_ROLLBACK_FAILED', 'rm', ['-f', '--', path])
  } else {
    await installAtomically(ctx, path, previous, path)
  }
  ctx.log.warn('rolled back', { path })
}

function timeout(ctx: Ctx): { timeoutMs?: number } {
  return ctx.config.timeoutMs === undefined ? {} : { timeoutMs: ctx.config.timeoutMs }
}

function substitute(args: string[], file: string): string[] {
  return args.map((a) => a.split(FILE_PLACEHOLDER).join(file))
}

/** Runs a validate or reload argv; fails with `code` quoting its output and saying what happened to the file. */
async function check(ctx: Ctx, code: string, argv: string[], file: string, outcome: string): Promise<void> {
  const command = argv[0]!
  const r = await ctx.exec(command, substitute(argv.slice(1), file), timeout(ctx))
  if (r.code === 0 && !r.timedOut) return
  const how = r.timedOut
    ? 'timed out'
    : r.code === null
      ? `was killed by ${r.signal}`
      : `exited with code ${r.code}`
  const detail = (r.stderr.trim() || r.stdout.trim()).slice(-MESSAGE_EXCERPT)
  const what = code === 'UPDATE_CONFIG_INVALID' ? 'validate' : 'reload'
  throw new PluginError(code, `${what} (${command}) ${how}${detail ? `: ${detail}` : ''}; ${outcome}`, {
    retryable: r.timedOut,
    data: { command, code: r.code, stderr: r.stderr.slice(-4096), stdout: r.stdout.slice(-4096) },
  })
}

async function mustRun(ctx: Ctx, code: string, command: string, args: string[]): Promise<void> {
  const r = await ctx.exec(command, args)
  if (r.code === 0 && !r.timedOut) return
  throw new PluginError(
    code,
    `${command} ${args.join(' ')} failed: ${r.stderr.trim().slice(-MESSAGE_EXCERPT) || `exit code ${r.code}`}`,
    {
      data: { command, code: r.code },
    },
  )
}
