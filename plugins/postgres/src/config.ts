import { ComparisonOperator, ErrorCodes, PluginError, type Static, Type } from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** New rows reported per check: a burst is spread over a few checks, none is dropped. */
  maxRows: 100,
  /** Series over the threshold kept at once: the state store holds small bookkeeping only. */
  maxSeries: 100,
  /** Long enough for a reporting query, short enough to notice a hung database at the next check. */
  timeoutMs: 10_000,
  notifyResolved: true,
} as const

// A plain SQL identifier: the plugin quotes it where it writes it into a query.
const IDENTIFIER = '^[A-Za-z_][A-Za-z0-9_]*$'

export const Config = Type.Object(
  {
    connection: Type.String({
      pattern: '^[a-z][a-z0-9_-]*$',
      maxLength: 64,
      description: 'The PostgreSQL connection the operator defines on the agent and grants the plugin',
    }),
    mode: Type.Union([Type.Literal('threshold'), Type.Literal('newRows'), Type.Literal('listen')], {
      description: 'threshold: compare a query’s values; newRows: report rows past a cursor; listen: NOTIFY',
    }),
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Names the check in events and state' }),
    ),
    query: Type.Optional(Type.String({ minLength: 1, maxLength: 20_000, description: 'One SELECT' })),
    params: Type.Optional(
      Type.Array(Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
        maxItems: 50,
        description: 'Bound to $1, $2, … of the query',
      }),
    ),
    valueColumn: Type.Optional(Type.String({ pattern: IDENTIFIER, maxLength: 63 })),
    operator: Type.Optional(ComparisonOperator),
    threshold: Type.Optional(Type.Number()),
    notifyResolved: Type.Optional(Type.Boolean()),
    maxSeries: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursorColumn: Type.Optional(Type.String({ pattern: IDENTIFIER, maxLength: 63 })),
    initialCursor: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Number()])),
    maxRows: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    channel: Type.Optional(Type.String({ pattern: IDENTIFIER, maxLength: 63 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
  },
  { additionalProperties: false },
)

export type PostgresConfig = Static<typeof Config>

export type Settings =
  | (Common & {
      mode: 'threshold'
      query: string
      params: (string | number | boolean | null)[]
      valueColumn: string
      operator: ComparisonOperator
      threshold: number
      notifyResolved: boolean
      maxSeries: number
    })
  | (Common & {
      mode: 'newRows'
      query: string
      params: (string | number | boolean | null)[]
      cursorColumn: string
      initialCursor: string | number | undefined
      maxRows: number
    })
  | (Common & { mode: 'listen'; channel: string })

interface Common {
  connection: string
  name: string
  timeoutMs: number
}

/** Which fields belong to which mode, to refuse one set for another with a clear message. */
const MODE_FIELDS: Record<PostgresConfig['mode'], (keyof PostgresConfig)[]> = {
  threshold: ['query', 'params', 'valueColumn', 'operator', 'threshold', 'notifyResolved', 'maxSeries'],
  newRows: ['query', 'params', 'cursorColumn', 'initialCursor', 'maxRows'],
  listen: ['channel'],
}

export function checkConfig(config: PostgresConfig): Settings {
  for (const [mode, fields] of Object.entries(MODE_FIELDS)) {
    if (mode === config.mode) continue
    for (const field of fields) {
      if (config[field] !== undefined && !MODE_FIELDS[config.mode].includes(field)) {
        throw invalid(field, `is not used with mode "${config.mode}" (it belongs to mode "${mode}")`)
      }
    }
  }
  const required = (field: keyof PostgresConfig) => {
    if (config[field] === undefined) throw invalid(field, `is required with mode "${config.mode}"`)
  }
  const common: Common = {
    connection: config.connection,
    name: config.name ?? (config.mode === 'listen' ? `LISTEN ${config.channel}` : (config.query ?? '')),
    timeoutMs: config.timeoutMs ?? DEFAULTS.timeoutMs,
  }
  if (config.mode === 'listen') {
    required('channel')
    return { ...common, mode: 'listen', channel: config.channel! }
  }
  required('query')
  const query = checkQuery(config.query!, config.params ?? [])
  if (config.mode === 'threshold') {
    required('operator')
    required('threshold')
    return {
      ...common,
      mode: 'threshold',
      query,
      params: config.params ?? [],
      valueColumn: config.valueColumn ?? 'value',
      operator: config.operator!,
      threshold: config.threshold!,
      notifyResolved: config.notifyResolved ?? DEFAULTS.notifyResolved,
      maxSeries: config.maxSeries ?? DEFAULTS.maxSeries,
    }
  }
  required('cursorColumn')
  return {
    ...common,
    mode: 'newRows',
    query,
    params: config.params ?? [],
    cursorColumn: config.cursorColumn!,
    initialCursor: config.initialCursor,
    maxRows: config.maxRows ?? DEFAULTS.maxRows,
  }
}

/**
 * The query without a trailing semicolon; it may use $1…$n for its n params and no more (the
 * plugin binds the cursor after them in newRows mode).
 */
function checkQuery(text: string, params: unknown[]): string {
  const query = text.trim().replace(/;\s*$/, '')
  if (query === '') throw invalid('query', 'is empty')
  for (const m of query.matchAll(/\$(\d+)/g)) {
    const n = Number(m[1])
    if (n < 1 || n > params.length) {
      throw invalid(
        'query',
        `uses $${n} but config.params has ${params.length} value${params.length === 1 ? '' : 's'}; bind $1…$${params.length} only`,
      )
    }
  }
  return query
}

export function invalid(field: string, message: string): PluginError {
  return new PluginError(ErrorCodes.INVALID_CONFIG, `config.${field}: ${message}`, { data: { field } })
}
