import { Type } from 'typebox'
import { Json, Kind, Pool, Uuid } from './common.ts'

// Instructions enqueued directly (part 1): a plugin call for a pool, outside any workflow.

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
