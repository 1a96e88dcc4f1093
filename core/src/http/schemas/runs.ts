import { Type } from 'typebox'
import { RUN_STATUSES } from '../../workflows/state-machine.ts'
import { Json, Uuid } from './common.ts'
import { PageOf, PageQueryFields } from './pagination.ts'

export const RunStatus = Type.Union(RUN_STATUSES.map((s) => Type.Literal(s)))

export const RunQuery = Type.Object(
  {
    ...PageQueryFields,
    workflow: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'workflow id or name' }),
    ),
    status: Type.Optional(RunStatus),
    since: Type.Optional(
      Type.String({
        pattern: '^\\d{4}-\\d{2}-\\d{2}(T[0-9:.]+(Z|[+-]\\d{2}:?\\d{2})?)?$',
        description: 'runs created at or after this time (ISO 8601)',
      }),
    ),
  },
  { additionalProperties: false },
)

export const RunSummary = Type.Object({
  id: Uuid,
  workflowId: Type.String(),
  workflowName: Type.String(),
  workflowVersion: Type.Integer(),
  status: Type.String(),
  event: Json,
  createdAt: Type.String(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
})

export const RunStep = Type.Object({
  stepId: Type.String(),
  kind: Type.String(),
  status: Type.String(),
  attempt: Type.Integer(),
  idempotencyKey: Type.String(),
  input: Json,
  output: Json,
  error: Json,
  reason: Type.Union([Type.String(), Type.Null()]),
  instructionId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  startedAt: Type.Union([Type.String(), Type.Null()]),
  finishedAt: Type.Union([Type.String(), Type.Null()]),
})

export const RunList = PageOf(RunSummary)

export const RunDetail = Type.Intersect([RunSummary, Type.Object({ steps: Type.Array(RunStep) })])
