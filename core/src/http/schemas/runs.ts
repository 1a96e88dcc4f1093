import { Type } from 'typebox'
import { RUN_STATUSES } from '../../workflows/state-machine.ts'
import { API_POLICY } from '../policy.ts'
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
  priority: Type.Integer({
    description: 'claim order of its steps in their pools, higher first (0 unless a manual run set it)',
  }),
})

/** One line a step's plugin call logged (ctx.log) or a command it ran wrote to stderr (source exec). */
export const StepLog = Type.Object({
  attempt: Type.Integer({ description: 'the attempt that logged it' }),
  level: Type.Union([
    Type.Literal('debug'),
    Type.Literal('info'),
    Type.Literal('warn'),
    Type.Literal('error'),
  ]),
  message: Type.String(),
  at: Type.String({ description: 'ISO time the line was written on the agent' }),
  source: Type.Union([Type.Literal('plugin'), Type.Literal('exec')]),
  fields: Type.Optional(Type.Record(Type.String(), Json)),
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
  logs: Type.Array(StepLog, {
    description: `the newest log lines of every attempt, oldest first (each attempt clipped by the agent API with a marker line); at most ${API_POLICY.runLogLinesPerStep} lines and ${API_POLICY.runLogBytesPerStep} bytes per step, and ${API_POLICY.runLogBytes} bytes for the whole run, shared by its steps`,
  }),
  logsOmitted: Type.Integer({
    minimum: 0,
    description:
      'older lines of this step left out by those caps (0: none); GET /instructions/:id has every line',
  }),
})

export const RunList = PageOf(RunSummary)

export const RunDetail = Type.Intersect([RunSummary, Type.Object({ steps: Type.Array(RunStep) })])
