import { Type } from 'typebox'
import { LIMITS } from '../../defaults.ts'
import { PRIORITY_MAX, PRIORITY_MIN } from '../../queue/priority.ts'
import { Json, Kind, Pool, Uuid } from './common.ts'
import { StepLog } from './runs.ts'

// Instructions enqueued directly: a plugin call for a pool, outside any workflow.

/** Higher is claimed first in its pool; lower priorities still move (docs/orchestrator.md, "Priority"). */
export const Priority = Type.Integer({
  minimum: PRIORITY_MIN,
  maximum: PRIORITY_MAX,
  description: `claim order within the pool, ${PRIORITY_MIN} to ${PRIORITY_MAX}, higher first; default 0`,
})

export const EnqueueBody = Type.Object(
  {
    kind: Kind,
    pool: Pool,
    plugin: Type.String({ minLength: 1, maxLength: LIMITS.pluginNameMax }),
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
    priority: Type.Optional(Priority),
    version: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: LIMITS.versionRangeMax,
        description: 'the exact plugin version the pool must have enabled (409 otherwise)',
      }),
    ),
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
  priority: Type.Integer(),
  pluginVersion: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  logs: Type.Optional(
    Type.Array(StepLog, { description: 'GET only: every reported attempt’s log lines, oldest first' }),
  ),
})
