import { Type } from 'typebox'
import { LIMITS } from '../../defaults.ts'
import { INT4_MAX, Kind, Labels, Pool, Uuid } from './common.ts'

// Enrollment tokens (agents exchange them for a credential) and operator API tokens.

export const CreateEnrollmentBody = Type.Object(
  {
    kind: Kind,
    pool: Pool,
    labels: Type.Optional(Labels),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: INT4_MAX })),
    uses: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.enrollmentUsesMax })),
  },
  { additionalProperties: false },
)

export const EnrollmentReply = Type.Object({
  id: Uuid,
  token: Type.String({ description: 'shown once' }),
  kind: Kind,
  pool: Pool,
  labels: Labels,
  expiresAt: Type.String(),
  usesLeft: Type.Integer(),
})

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('viewer')])

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: LIMITS.tokenNameMax }),
    role: Role,
    expiresAt: Type.Optional(
      Type.String({
        maxLength: 40,
        description: 'ISO 8601 time with a zone, in the future; without it the token does not expire',
      }),
    ),
  },
  { additionalProperties: false },
)

const Time = Type.Union([Type.String(), Type.Null()])

export const TokenReply = Type.Object({
  id: Uuid,
  name: Type.String(),
  role: Type.String(),
  expiresAt: Time,
  token: Type.String({ description: 'shown once' }),
})

export const TokenSummary = Type.Object({
  id: Uuid,
  name: Type.String(),
  role: Type.String(),
  createdAt: Type.String(),
  revokedAt: Time,
  expiresAt: Time,
  lastUsedAt: Type.Union([Type.String(), Type.Null()], {
    description: 'last authenticated request, to the minute (recorded at most once a minute)',
  }),
})
