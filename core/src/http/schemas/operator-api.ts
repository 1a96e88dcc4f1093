import { Type } from 'typebox'
import { Json, Kind, Labels, Pool, Uuid } from './common.ts'

// Wire schemas of the operator API routes of part 1 (/api/v1): the minimum to mint tokens,
// enroll agents and enqueue work. Part 2 extends this API.

export const CreateEnrollmentBody = Type.Object(
  {
    kind: Kind,
    pool: Pool,
    labels: Type.Optional(Labels),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 60 })),
    uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
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

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('viewer')]),
  },
  { additionalProperties: false },
)

export const TokenReply = Type.Object({
  id: Uuid,
  name: Type.String(),
  role: Type.String(),
  token: Type.String({ description: 'shown once' }),
})

export const EnqueueBody = Type.Object(
  {
    kind: Kind,
    pool: Pool,
    plugin: Type.String({ minLength: 1, maxLength: 214 }),
    operation: Type.Union([
      Type.Literal('run'),
      Type.Literal('send'),
      Type.Literal('check'),
      Type.Literal('watch'),
    ]),
    input: Type.Optional(Json),
    config: Type.Optional(Json),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 86_400_000 })),
    retryLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
)

export const InstructionReply = Type.Object({
  id: Uuid,
  kind: Kind,
  pool: Pool,
  plugin: Type.String(),
  operation: Type.String(),
  status: Type.String(),
  attempt: Type.Integer(),
  maxAttempts: Type.Integer(),
  agentId: Type.Union([Uuid, Type.Null()]),
  output: Json,
  error: Json,
  cancelRequested: Type.Boolean(),
  createdAt: Type.String(),
})

export const AgentReply = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: Kind,
  pool: Pool,
  labels: Labels,
  version: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  drain: Type.Boolean(),
  lastSeenAt: Type.String(),
})

export const DrainBody = Type.Object({ drain: Type.Boolean() }, { additionalProperties: false })
