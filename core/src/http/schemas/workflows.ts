import { Type } from 'typebox'
import { INT4_MAX, Json } from './common.ts'
import { PageOf, PageQueryFields } from './pagination.ts'

// Workflows: documents (YAML or JSON text) applied declaratively by name, versioned.

export const IdOrNameParams = Type.Object(
  { idOrName: Type.String({ minLength: 1, maxLength: 200, description: 'workflow id or name' }) },
  { additionalProperties: false },
)

export const ApplyBody = Type.Object(
  {
    document: Type.String({
      minLength: 1,
      maxLength: 1_048_576,
      description: 'the workflow document, YAML or JSON text',
    }),
  },
  { additionalProperties: false },
)

export const WorkflowSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  enabled: Type.Boolean(),
  version: Type.Integer({ description: 'the current version' }),
  triggerKind: Type.String({ description: 'sensor, webhook or schedule' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  hookPath: Type.Optional(Type.String({ description: 'webhook workflows: where senders POST' })),
})

export const ApplyReply = Type.Object({
  workflow: WorkflowSummary,
  version: Type.Integer(),
  created: Type.Boolean(),
  changed: Type.Boolean({ description: 'false when the document matches the current version' }),
  warnings: Type.Array(Type.String()),
})

export const WorkflowList = PageOf(WorkflowSummary)

export const GetQuery = Type.Object(
  {
    version: Type.Optional(Type.Integer({ minimum: 1, maximum: INT4_MAX, description: 'an older version' })),
  },
  { additionalProperties: false },
)

export const WorkflowDetail = Type.Intersect([
  WorkflowSummary,
  Type.Object({
    shownVersion: Type.Integer({ description: 'the version shown (current unless ?version= asked)' }),
    document: Type.String({ description: 'the document as applied' }),
    definition: Json,
    createdBy: Type.Union([Type.String(), Type.Null()]),
    versionCreatedAt: Type.String(),
  }),
])

export const VersionList = PageOf(
  Type.Object({
    version: Type.Integer(),
    createdBy: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
  }),
)

export const VersionsQuery = Type.Object(PageQueryFields, { additionalProperties: false })

const EventData = Type.Object(
  {
    data: Json,
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
)
const RecordedEvent = Type.Object(
  { eventId: Type.String({ minLength: 1, maxLength: 100, description: 'a recorded event' }) },
  { additionalProperties: false },
)

const RunEvent = Type.Object(
  { runId: Type.String({ minLength: 1, maxLength: 100, description: 'the event a run started with' }) },
  { additionalProperties: false },
)
const DryRunEvent = Type.Union([EventData, RecordedEvent, RunEvent])

const StepResults = Type.Record(
  Type.String(),
  Type.Object(
    {
      status: Type.Optional(Type.String()),
      output: Type.Optional(Json),
      error: Type.Optional(
        Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
      ),
    },
    { additionalProperties: false },
  ),
  { description: 'results to assume for steps, by step id' },
)

export const DryRunSavedBody = Type.Object(
  { event: DryRunEvent, steps: Type.Optional(StepResults) },
  { additionalProperties: false },
)

export const DryRunDocumentBody = Type.Object(
  {
    document: ApplyBody.properties.document,
    event: DryRunEvent,
    steps: Type.Optional(StepResults),
  },
  { additionalProperties: false },
)

const DryRunStep = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  plugin: Type.String(),
  version: Type.String(),
  pool: Type.String(),
  decision: Type.String({ description: 'run, skip, unknown or error' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  input: Json,
  assumed: Json,
})

export const DryRunReply = Type.Object({
  triggered: Type.Boolean(),
  reason: Type.Union([Type.String(), Type.Null()]),
  windowKey: Json,
  actions: Type.Array(DryRunStep),
  outputs: Type.Array(DryRunStep),
  outcome: Type.Union([Type.String(), Type.Null()]),
  outcomeAssumed: Type.Boolean(),
  response: Type.Union(
    [
      Type.Object({
        status: Type.Union([Type.Integer(), Type.Null()]),
        body: Json,
        reason: Type.Optional(Type.String()),
      }),
      Type.Null(),
    ],
    { description: 'what a webhook with respond would answer once the run finished (null without respond)' },
  ),
})
