import {
  type ActionContext,
  defineAction,
  ErrorCodes,
  type ExecOptions,
  PluginError,
  type Static,
  Type,
} from '@stavily/sdk'
import { backupFileName, backupsOf, EXTENSIONS, type Format, isBackupOf } from './names.ts'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** A week of daily backups. */
  keep: 7,
} as const

/** How much of a command's stderr an error quotes. */
const MESSAGE_EXCERPT = 500
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$'

const Config = Type.Object(
  {
    database: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        pattern: '^postgres',
        description: 'PostgreSQL to back up: postgres://user@host:port/db (the password comes from a secret)',
      }),
    ),
    schemas: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z_][A-Za-z0-9_$]*$' }), {
        maxItems: 100,
      }),
    ),
    folder: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 4096,
        pattern: '^/',
        description: 'A folder to archive (fs.read)',
      }),
    ),
    exclude: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { maxItems: 100 })),
    destination: Type.String({
      minLength: 2,
      maxLength: 4096,
      pattern: '^/',
      description: 'The folder the backups go to (fs.read and fs.write)',
    }),
    name: Type.String({ minLength: 1, maxLength: 100, pattern: NAME_PATTERN }),
    keep: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    passwordSecret: Type.Optional(
      Type.Boolean({ description: 'Pass the BACKUP_PG_PASSWORD secret to pg_dump/pg_restore as PGPASSWORD' }),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  {
    operation: Type.Optional(Type.Union([Type.Literal('backup'), Type.Literal('restore')])),
    /** restore: the backup's file name, or its path in the destination (a backup's output.file); default the newest. */
    file: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /** restore: another database URL or folder to restore into; default the source. */
    target: Type.Optional(Type.String({ minLength: 2, maxLength: 4096 })),
  },
  { additionalProperties: false },
)

const Output = Type.Object({
  operation: Type.Union([Type.Literal('backup'), Type.Literal('restore')]),
  format: Type.Union([Type.Literal('postgres'), Type.Literal('folder')]),
  /** The backup file, absolute. */
  file: Type.String(),
  sha256: Type.String(),
  sizeBytes: Type.Integer(),
  durationMs: Type.Integer(),
  /** backup: the older backups retention removed (file names). */
  removed: Type.Array(Type.String()),
  /** restore: the database or folder restored into; backup: null. */
  target: Type.Union([Type.String(), Type.Null()]),
})

type Config = Static<typeof Config>
type Ctx = ActionContext<Config>

/**
 * Backs up PostgreSQL (`pg_dump --format=custom`) or a folder (`tar` + gzip) into a granted
 * destination, with a SHA-256 checksum file beside it and retention (the newest `keep`
 * stay), and restores one (`pg_restore` / `tar -x`) after checking its checksum.
 */
export default defineAction({
  config: Config,
  input: Input,
  output: Output,

  async run(ctx, input) {
    const format = checkConfig(ctx.config)
    const started = Date.now()
    const result =
      input.operation === 'restore' ? await restore(ctx, format, input) : await backup(ctx, format)
    return { ...result, durationMs: Math.max(0, Date.now() - started) }
  },
})

function checkConfig(config: Config): Format {
  if (config.destination.length > 1 && config.destination.endsWith('/')) {
    throw new PluginError(
      ErrorCodes.INVALID_CONFIG,
      `config.destination: write it without the final "/" (${config.destination.replace(/\/+$/, '')})`,
      {
        data: { field: 'destination' },
      },
    )
  }
  if ((config.database === undefined) === (config.folder === undefined)) {
    throw new PluginError(
      ErrorCodes.INVALID_CONFIG,
      'config.database, config.folder: set exactly one of them',
      {
        data: { field: 'database' },
      },
    )
  }
  if (config.database !== undefined) {
    const problem = connectionProblem(config.database)
    if (problem)
      throw new PluginError(ErrorCodes.INVALID_CONFIG, `config.database: ${problem}`, {
        data: { field: 'database' },
      })
    if (config.exclude !== undefined) {
      throw new PluginError(ErrorCodes.INVALID_CONFIG, 'config.exclude: only with config.folder', {
        data: { field: 'exclude' },
      })
    }
    return 'postgres'
  }
  if (config.schemas !== undefined) {
    throw new PluginError(ErrorCodes.INVALID_CONFIG, 'config.schemas: only with config.database', {
      data: { field: 'schemas' },
    })
  }
  return 'folder'
}

/** Why `url` is not a connection URL this plugin accepts, or undefined. */
function connectionProblem(url: string): string | undefined {
  const m = /^postgres(?:ql)?:\/\/([^/?#]*)/.exec(url)
  if (!m) return `expected postgres://user@host:port/db, got ${JSON.stringify(url.slice(0, 100))}`
  const authority = m[1] ?? ''
  const at = authority.lastIndexOf('@')
  if (at >= 0 && authority.slice(0, at).includes(':')) {
    return 'has a password in it: store it as the BACKUP_PG_PASSWORD secret and set config.passwordSecret'
  }
  if (/[?&]password=/i.test(url)) return 'has a password parameter: use the BACKUP_PG_PASSWORD secret'
  return undefined
}

async function pgEnv(ctx: Ctx): Promise<ExecOptions['env'] | undefined> {
  if (ctx.config.passwordSecret !== true) return undefined
  return { PGPASSWORD: await ctx.secrets.get('BACKUP_PG_PASSWORD') }
}

async function backup(ctx: Ctx, format: Format) {
  const { destination, name } = ctx.config
  if (format === 'folder') {
    // tar runs with the agent's rights: the plugin reads the folder first so that only a
    // folder within the read grant is ever archived.
    await ctx.fs.list(ctx.config.folder!)
  }
  const file = backupFileName(name, format, new Date())
  const final = `${destination}/${file}`
  const partial = `${destination}/.${file}.${ctx.invocationId.slice(0, 8)}.partial`
  // Created through ctx.fs: a destination outside the write grant fails here, before any
  // command writes there; the command then writes over this empty file.
  await ctx.fs.writeText(partial, '')
  const timeout = ctx.config.timeoutMs === undefined ? {} : { timeoutMs: ctx.config.timeoutMs }
  try {
    if (format === 'postgres') {
      const env = await pgEnv(ctx)
      const args = [
        '--format=custom',
        '--no-password',
        `--file=${partial}`,
        ...(ctx.config.schemas ?? []).map((s) => `--schema=${s}`),
        `--dbname=${ctx.config.database}`,
      ]
      await mustRun(ctx, 'BACKUP_FAILED', 'pg_dump', args, { ...timeout, ...(env ? { env } : {}) }, true)
    } else {
      const args = [
        '--create',
        '--gzip',
        `--file=${partial}`,
        `--directory=${ctx.config.folder}`,
        ...(ctx.config.exclude ?? []).map((e) => `--exclude=${e}`),
        '.',
      ]
      await mustRun(ctx, 'BACKUP_FAILED', 'tar', args, timeout, true)
    }
    const { sha256, sizeBytes } = await checksum(ctx, partial)
    await mustRun(ctx, 'BACKUP_FAILED', 'mv', ['-f', '--', partial, final], {}, true)
    // sha256sum's own format, so `sha256sum -c` checks a backup by hand too.
    await ctx.fs.writeText(`${final}.sha256`, `${sha256}  ${file}\n`)
    const removed = await applyRetention(ctx, format)
    ctx.log.info('backup written', { file: final, sizeBytes, sha256, removed })
    return { operation: 'backup' as const, format, file: final, sha256, sizeBytes, removed, target: null }
  } catch (err) {
    await ctx.exec('rm', ['-f', '--', partial]).catch(() => undefined)
    throw err
  }
}

/** Removes all but the newest `keep` backups of this name (and their checksum files). */
async function applyRetention(ctx: Ctx, format: Format): Promise<string[]> {
  const keep = ctx.config.keep ?? DEFAULTS.keep
  const backups = backupsOf(await ctx.fs.list(ctx.config.destination), ctx.config.name, format)
  const old = backups.slice(0, Math.max(0, backups.length - keep))
  if (old.length === 0) return []
  const paths = old.flatMap((f) => [
    `${ctx.config.destination}/${f}`,
    `${ctx.config.destination}/${f}.sha256`,
  ])
  await mustRun(ctx, 'BACKUP_RETENTION_FAILED', 'rm', ['-f', '--', ...paths], {}, true)
  return old
}

async function restore(ctx: Ctx, format: Format, input: { file?: string; target?: string }) {
  const { destination, name } = ctx.config
  const backups = backupsOf(await ctx.fs.list(destination), name, format)
  // A backup step's output.file is the absolute path: accepted when it is in the destination.
  const given = input.file?.startsWith(`${destination}/`)
    ? input.file.slice(destination.length + 1)
    : input.file
  const file = given ?? backups[backups.length - 1]
  if (file === undefined) {
    throw new PluginError(
      'BACKUP_NOT_FOUND',
      `no backup named ${name}-<time>${EXTENSIONS[format]} in ${destination}`,
    )
  }
  if (!isBackupOf(file, name, format) || !backups.includes(file)) {
    throw new PluginError(
      'BACKUP_NOT_FOUND',
      `input.file: ${input.file} is not a backup of ${name} in ${destination}`,
      {
        data: { field: 'file', available: backups.slice(-20) },
      },
    )
  }
  const path = `${destination}/${file}`
  const { sha256, sizeBytes } = await verify(ctx, path, file)
  const timeout = ctx.config.timeoutMs === undefined ? {} : { timeoutMs: ctx.config.timeoutMs }
  let target: string
  if (format === 'postgres') {
    target = input.target ?? ctx.config.database!
    const problem = connectionProblem(target)
    if (problem)
      throw new PluginError(ErrorCodes.INVALID_INPUT, `input.target: ${problem}`, {
        data: { field: 'target' },
      })
    const env = await pgEnv(ctx)
    // One transaction: a restore that fails part-way leaves the database as it was.
    const args = [
      '--clean',
      '--if-exists',
      '--no-owner',
      '--exit-on-error',
      '--single-transaction',
      '--no-password',
      `--dbname=${target}`,
      path,
    ]
    await mustRun(
      ctx,
      'BACKUP_RESTORE_FAILED',
      'pg_restore',
      args,
      { ...timeout, ...(env ? { env } : {}) },
      false,
    )
  } else {
    target = input.target ?? ctx.config.folder!
    if (!target.startsWith('/')) {
      throw new PluginError(
        ErrorCodes.INVALID_INPUT,
        `input.target: expected an absolute folder, got ${target}`,
        {
          data: { field: 'target' },
        },
      )
    }
    // tar writes with the agent's rights: prove the folder is within the write grant first.
    const probe = `${target}/.stavily-restore-${ctx.invocationId.slice(0, 8)}`
    await ctx.fs.writeText(probe, '')
    await ctx.exec('rm', ['-f', '--', probe])
    await mustRun(
      ctx,
      'BACKUP_RESTORE_FAILED',
      'tar',
      ['--extract', '--gzip', `--file=${path}`, `--directory=${target}`, '--no-same-owner'],
      timeout,
      false,
    )
  }
  ctx.log.info('backup restored', { file: path, target: format === 'postgres' ? redact(target) : target })
  return {
    operation: 'restore' as const,
    format,
    file: path,
    sha256,
    sizeBytes,
    removed: [],
    target: format === 'postgres' ? redact(target) : target,
  }
}

/** The file's checksum must match the one written with it: a damaged backup is never restored. */
async function verify(ctx: Ctx, path: string, file: string) {
  let recorded: string
  try {
    recorded = (await ctx.fs.readText(`${path}.sha256`)).trim().split(/\s+/)[0] ?? ''
  } catch (err) {
    throw new PluginError(
      'BACKUP_CHECKSUM_MISMATCH',
      `${file}.sha256 cannot be read: ${(err as Error).message}`,
    )
  }
  const actual = await checksum(ctx, path)
  if (actual.sha256 !== recorded) {
    throw new PluginError(
      'BACKUP_CHECKSUM_MISMATCH',
      `${file}: its SHA-256 is ${actual.sha256}, its checksum file says ${recorded}; the backup is damaged, restore another one`,
      { data: { file, expected: recorded, actual: actual.sha256 } },
    )
  }
  return actual
}

async function checksum(ctx: Ctx, path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const sum = await mustRun(ctx, 'BACKUP_FAILED', 'sha256sum', ['--', path], {}, true)
  const sha256 = sum.split(' ')[0] ?? ''
  const count = await mustRun(ctx, 'BACKUP_FAILED', 'wc', ['-c', '--', path], {}, true)
  const sizeBytes = Number.parseInt(count.trim().split(/\s+/)[0] ?? '', 10)
  if (!/^[0-9a-f]{64}$/.test(sha256) || !Number.isSafeInteger(sizeBytes)) {
    throw new PluginError('BACKUP_FAILED', `cannot read the checksum or size of ${path}`, {
      data: { sha256sum: sum.slice(0, 200), wc: count.slice(0, 200) },
    })
  }
  return { sha256, sizeBytes }
}

/** Runs a command and returns its stdout, or fails with `code` quoting its stderr. */
async function mustRun(
  ctx: Ctx,
  code: string,
  command: string,
  args: string[],
  options: ExecOptions,
  retryable: boolean,
): Promise<string> {
  const r = await ctx.exec(command, args, options)
  if (r.code === 0 && !r.timedOut) return r.stdout
  const how = r.timedOut
    ? 'timed out'
    : r.code === null
      ? `was killed by ${r.signal}`
      : `exited with code ${r.code}`
  const detail = r.stderr.trim().slice(-MESSAGE_EXCERPT)
  throw new PluginError(code, `${command} ${how}${detail ? `: ${detail}` : ''}`, {
    retryable: retryable || r.timedOut,
    data: { command, code: r.code, stderr: r.stderr.slice(-4096) },
  })
}

/** A connection URL as it may appear in logs and outputs (no query string, which may hold options). */
function redact(url: string): string {
  return url.split('?')[0]!
}
