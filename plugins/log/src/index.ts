import {
  defineOutput,
  ErrorCodes,
  isPluginError,
  type JsonValue,
  type OutputContext,
  PluginError,
  Type,
} from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  level: 'info' as const,
  /**
   * The file is read whole before each append (the SDK's fs has no append), and the agent
   * refuses reads over its fsReadBytes limit (4 MiB by default): keep well under it.
   */
  maxFileBytes: 1024 * 1024,
} as const

const Level = Type.Union([
  Type.Literal('debug'),
  Type.Literal('info'),
  Type.Literal('warn'),
  Type.Literal('error'),
])

const Config = Type.Object(
  {
    level: Type.Optional(Level),
    file: Type.Optional(
      Type.String({
        pattern: '^/',
        maxLength: 4096,
        description: 'Also append the line, as JSON, to this file (under permissions.fs.read and fs.write)',
      }),
    ),
    maxFileBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 3 * 1024 * 1024 })),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: 10_000 }),
    fields: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** Overrides config.level for this line (e.g. "error" when the run failed). */
    level: Type.Optional(Level),
  },
  { additionalProperties: false },
)

const Output = Type.Object({
  level: Level,
  /** The file the line was appended to, or null. */
  file: Type.Union([Type.String(), Type.Null()]),
  /** Older lines dropped from the start of the file to stay under maxFileBytes. */
  droppedLines: Type.Integer(),
})

type Ctx = OutputContext<{ file?: string; maxFileBytes?: number }>

/**
 * Writes one structured line through the agent's log (ctx.log) at the configured level,
 * and optionally appends it as a JSON line to a file: an audit trail on the agent's host.
 */
export default defineOutput({
  config: Config,
  input: Input,
  output: Output,

  async send(ctx, input) {
    const level = input.level ?? ctx.config.level ?? DEFAULTS.level
    const fields = (input.fields ?? {}) as Record<string, JsonValue>
    ctx.log[level](input.message, fields)
    const file = ctx.config.file
    if (file === undefined) return { level, file: null, droppedLines: 0 }
    if (file.endsWith('/')) {
      throw new PluginError(
        ErrorCodes.INVALID_CONFIG,
        `config.file: ${JSON.stringify(file)} is a folder; name a file`,
        {
          data: { field: 'file' },
        },
      )
    }
    const record: Record<string, JsonValue> = {
      time: new Date().toISOString(),
      level,
      message: input.message,
      invocationId: ctx.invocationId,
      idempotencyKey: ctx.idempotencyKey,
    }
    if (input.fields !== undefined) record.fields = fields
    const droppedLines = await append(ctx, file, `${JSON.stringify(record)}\n`)
    return { level, file, droppedLines }
  },
})

/**
 * Appends by reading the file and writing it back whole, because ctx.fs has no append.
 * Not atomic: two log outputs appending to the same file at the same moment on one agent
 * can lose one line. When the file would pass maxFileBytes, its oldest lines are dropped.
 */
async function append(ctx: Ctx, file: string, line: string): Promise<number> {
  let existing = ''
  try {
    existing = await ctx.fs.readText(file)
  } catch (error) {
    // A missing file is created; anything else (denied, a folder, too large) is reported.
    if (!(isPluginError(error) && (error.data as { errno?: unknown } | undefined)?.errno === 'ENOENT'))
      throw error
  }
  const max = ctx.config.maxFileBytes ?? DEFAULTS.maxFileBytes
  const lineBytes = utf8Length(line)
  if (lineBytes > max) {
    throw new PluginError(
      ErrorCodes.INVALID_INPUT,
      `input: the line is ${lineBytes} bytes, more than config.maxFileBytes (${max}); shorten input.message or input.fields`,
      { data: { field: 'message' } },
    )
  }
  let dropped = 0
  let kept = existing === '' || existing.endsWith('\n') ? existing : `${existing}\n`
  let size = utf8Length(kept)
  while (size + lineBytes > max && kept !== '') {
    const end = kept.indexOf('\n')
    const first = end < 0 ? kept : kept.slice(0, end + 1)
    kept = kept.slice(first.length)
    size -= utf8Length(first)
    dropped++
  }
  await ctx.fs.writeText(file, kept + line)
  if (dropped > 0) ctx.log.warn('log file reached maxFileBytes; dropped its oldest lines', { file, dropped })
  return dropped
}

/** UTF-8 length of a string, without TextEncoder (not guaranteed in the sandbox). */
export function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one 4-byte code point.
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}
