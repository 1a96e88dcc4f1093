import { ErrorCodes, PluginError, type Static, Type } from '@stavily/sdk'
import { globToRegExp } from './glob.ts'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** An editor's save or a deploy's copy is a burst of changes: half a second makes it one. */
  debounceMs: 500,
  recursive: true,
  /** Paths remembered to tell a replaced file (modified) from a new one (created). */
  maxKnownPaths: 10_000,
} as const

export const CHANGES = ['created', 'modified', 'deleted'] as const
export type Change = (typeof CHANGES)[number]

export const Config = Type.Object(
  {
    paths: Type.Array(
      Type.String({ pattern: '^/', minLength: 1, maxLength: 4096, description: 'A file or folder to watch' }),
      { minItems: 1, maxItems: 20, description: 'Files or folders under a path the agent grants' },
    ),
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Names the watch in events' }),
    ),
    recursive: Type.Optional(
      Type.Boolean({ description: 'Watch the folders’ subfolders too (default true)' }),
    ),
    include: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 500 }), {
        maxItems: 50,
        description: 'Globs a changed path must match (relative to its watched folder)',
      }),
    ),
    exclude: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 500 }), {
        maxItems: 50,
        description: 'Globs to ignore',
      }),
    ),
    changes: Type.Optional(
      Type.Array(Type.Union([Type.Literal('created'), Type.Literal('modified'), Type.Literal('deleted')]), {
        minItems: 1,
        maxItems: 3,
        description: 'Which changes to report (default all)',
      }),
    ),
    debounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  },
  { additionalProperties: false },
)

export type FileWatchConfig = Static<typeof Config>

/** A compiled glob; `absolute` ones are matched against the absolute path. */
export interface Matcher {
  re: RegExp
  absolute: boolean
}

export interface Settings {
  paths: string[]
  name: string
  recursive: boolean
  include: Matcher[]
  exclude: Matcher[]
  changes: Set<Change>
  debounceMs: number
}

export function checkConfig(config: FileWatchConfig): Settings {
  const paths = config.paths.map((p, i) => normalize(p, `paths.${i}`))
  for (const [i, p] of paths.entries()) {
    const other = paths.findIndex((q, j) => j !== i && (q === p || p.startsWith(`${q}/`)))
    if (other !== -1) throw invalid(`paths.${i}`, `${p} is already watched through config.paths.${other}`)
  }
  return {
    paths,
    name: config.name ?? paths.join(', '),
    recursive: config.recursive ?? DEFAULTS.recursive,
    include: (config.include ?? []).map((g, i) => matcher(g, `config.include.${i}`)),
    exclude: (config.exclude ?? []).map((g, i) => matcher(g, `config.exclude.${i}`)),
    changes: new Set(config.changes ?? CHANGES),
    debounceMs: config.debounceMs ?? DEFAULTS.debounceMs,
  }
}

function matcher(glob: string, field: string): Matcher {
  return { re: globToRegExp(glob, field), absolute: glob.startsWith('/') }
}

function normalize(path: string, field: string): string {
  const parts = path.split('/').filter((p) => p !== '')
  if (parts.some((p) => p === '.' || p === '..')) {
    throw invalid(field, `must not contain "." or ".." segments, got ${JSON.stringify(path)}`)
  }
  return `/${parts.join('/')}`
}

function invalid(field: string, message: string): PluginError {
  return new PluginError(ErrorCodes.INVALID_CONFIG, `config.${field}: ${message}`, { data: { field } })
}
