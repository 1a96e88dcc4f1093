import { UUID_PATTERN } from '@stavily/protocol'
import { Type } from 'typebox'
import { LABEL_KEY_PATTERN, POOL_PATTERN } from '../../checks.ts'

export { UUID_PATTERN }

// Integer fields are bounded by the column they end in, so an out-of-range number is a 400
// naming the field, not a PostgreSQL error (a 500).
/** Largest value of an `integer` column. */
export const INT4_MAX = 2_147_483_647
/** Largest value of a `bigint` column that JSON numbers carry exactly. */
export const BIGINT_SAFE_MAX = Number.MAX_SAFE_INTEGER

export const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'a UUID' })
export const Pool = Type.String({ pattern: POOL_PATTERN, description: 'pool name: a-z, 0-9, -' })
export const Kind = Type.Union([Type.Literal('sensor'), Type.Literal('action')])
export const Labels = Type.Record(
  Type.String({ pattern: LABEL_KEY_PATTERN }),
  Type.String({ maxLength: 256 }),
  {
    maxProperties: 64,
  },
)
export const IdParams = Type.Object({ id: Uuid }, { additionalProperties: false })

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    /** An invalid workflow document: every problem, with its line and field. */
    issues: Type.Optional(Type.Array(Type.Unknown())),
  }),
})

/** Free-form JSON (plugin input, output, event data): any JSON value. */
export const Json = Type.Unknown()

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  413: ErrorBody,
  415: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
}
