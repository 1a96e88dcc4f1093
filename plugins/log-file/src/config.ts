import { ErrorCodes, PluginError, type Static, Type } from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** Like `tail -f`: a file seen for the first time is read from its end, not replayed. */
  startAt: 'end' as 'end' | 'beginning',
  /** Enough for a burst of errors; the rest wait for the next check, none is dropped. */
  maxEvents: 20,
  /** A matched line is evidence, not a payload: long enough for a stack trace's first line. */
  maxLineChars: 2000,
} as const

// Schema patterns are run by the agent outside the sandbox, so they stay simple; the regular
// expression itself is compiled inside the sandbox by `checkConfig`.
export const Config = Type.Object(
  {
    path: Type.String({
      pattern: '^/',
      minLength: 2,
      maxLength: 4096,
      description: 'The absolute path of the log file; it must be under a declared and granted fs.read path',
    }),
    pattern: Type.String({
      minLength: 1,
      maxLength: 1000,
      description: 'A JavaScript regular expression; each new line it matches is one event',
    }),
    flags: Type.Optional(Type.String({ pattern: '^[imsu]{0,4}$', description: 'Regular expression flags' })),
    exclude: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1000, description: 'Lines that also match this are skipped' }),
    ),
    name: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Names the tail in events and keeps its position (default: the path)',
      }),
    ),
    rotatedPath: Type.Optional(
      Type.String({
        pattern: '^/',
        minLength: 2,
        maxLength: 4096,
        description:
          'Where the rotated file goes (default: path + ".1"): its unread lines are read after a rotation',
      }),
    ),
    startAt: Type.Optional(Type.Union([Type.Literal('end'), Type.Literal('beginning')])),
    maxEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    maxLineChars: Type.Optional(Type.Integer({ minimum: 80, maximum: 65_536 })),
  },
  { additionalProperties: false },
)

export type LogFileConfig = Static<typeof Config>

/** The config with defaults applied and the regular expressions compiled. */
export interface Settings {
  path: string
  rotatedPath: string
  name: string
  pattern: RegExp
  exclude: RegExp | undefined
  startAt: 'end' | 'beginning'
  maxEvents: number
  maxLineChars: number
}

export function checkConfig(config: LogFileConfig): Settings {
  const path = normalize(config.path, 'path')
  const rotatedPath = normalize(config.rotatedPath ?? `${path}.1`, 'rotatedPath')
  if (rotatedPath === path) throw invalid('rotatedPath', 'must differ from config.path')
  // No `g` or `y` flag: a global expression keeps lastIndex between lines and skips matches.
  return {
    path,
    rotatedPath,
    name: config.name ?? path,
    pattern: compile(config.pattern, config.flags ?? '', 'pattern'),
    exclude:
      config.exclude === undefined ? undefined : compile(config.exclude, config.flags ?? '', 'exclude'),
    startAt: config.startAt ?? DEFAULTS.startAt,
    maxEvents: config.maxEvents ?? DEFAULTS.maxEvents,
    maxLineChars: config.maxLineChars ?? DEFAULTS.maxLineChars,
  }
}

function compile(source: string, flags: string, field: string): RegExp {
  try {
    return new RegExp(source, flags)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw invalid(field, `is not a valid regular expression (${reason})`)
  }
}

/** An absolute path without `.`/`..` segments or a trailing slash (the file itself, not a folder). */
function normalize(path: string, field: string): string {
  const parts = path.split('/').filter((p) => p !== '')
  if (parts.some((p) => p === '.' || p === '..')) {
    throw invalid(field, `must not contain "." or ".." segments, got ${JSON.stringify(path)}`)
  }
  if (path.endsWith('/')) throw invalid(field, `must name a file, not a folder, got ${JSON.stringify(path)}`)
  return `/${parts.join('/')}`
}

function invalid(field: string, message: string): PluginError {
  return new PluginError(ErrorCodes.INVALID_CONFIG, `config.${field}: ${message}`, { data: { field } })
}
