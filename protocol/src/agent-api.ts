import { type Static, Type } from 'typebox'
import { LoadedPlugins } from './loaded-plugins.ts'

// Wire schemas of the agent API, /agents/v1, written once: the orchestrator's routes validate
// and document with them, and stavily-agent reads its answers as their types. What agents
// report (results, events) is in agent-reports.ts. A breaking change here is /agents/v2.

/** The id of an agent, organization, instruction, run or sensor assignment. */
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
/** A pool name: a-z, 0-9 and -, at most 63 characters. */
export const POOL_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$'
/** An agent label's key. */
export const LABEL_KEY_PATTERN = '^[a-z0-9][a-z0-9._/-]{0,62}$'
/** Attempt numbers are stored as 32-bit integers. */
const ATTEMPT_MAX = 2_147_483_647

const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'a UUID' })
const Pool = Type.String({ pattern: POOL_PATTERN, description: 'pool name: a-z, 0-9, -' })
const Kind = Type.Union([Type.Literal('sensor'), Type.Literal('action')])
const Labels = Type.Record(Type.String({ pattern: LABEL_KEY_PATTERN }), Type.String({ maxLength: 256 }), {
  maxProperties: 64,
})
const Json = Type.Unknown()

export const Intervals = Type.Object({
  pollWaitMs: Type.Integer(),
  heartbeatMs: Type.Integer(),
  leaseTtlMs: Type.Integer(),
  backoffInitialMs: Type.Integer(),
  backoffMaxMs: Type.Integer(),
})

const SecretNames = Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' }), { maxItems: 500 })

/** The secrets the agent's operator granted; the orchestrator sends only declared ∩ granted. */
export const SecretGrants = Type.Object(
  {
    all: SecretNames,
    plugins: Type.Optional(
      Type.Record(Type.String({ pattern: '^[@A-Za-z0-9][@A-Za-z0-9._/-]{0,213}$' }), SecretNames, {
        maxProperties: 500,
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'secret names granted to every plugin (all) and per plugin name; sent at register and with heartbeats. An agent that never sends them gets no secrets',
  },
)

export const RegisterBody = Type.Object(
  {
    enrollmentToken: Type.String({ minLength: 1, maxLength: 200 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    labels: Type.Optional(Labels),
    version: Type.Optional(Type.String({ maxLength: 100 })),
    secretGrants: Type.Optional(SecretGrants),
  },
  { additionalProperties: false },
)

export const RegisterReply = Type.Object({
  agentId: Uuid,
  orgId: Uuid,
  kind: Kind,
  pool: Pool,
  labels: Labels,
  credential: Type.String({ description: 'shown once; send as `Authorization: Bearer <credential>`' }),
  intervals: Intervals,
})

export const CancelList = Type.Array(Type.Object({ id: Uuid, attempt: Type.Integer() }))

export const HeartbeatBody = Type.Object(
  {
    version: Type.Optional(Type.String({ maxLength: 100 })),
    secretGrants: Type.Optional(SecretGrants),
    loadedPlugins: Type.Optional(LoadedPlugins),
  },
  { additionalProperties: false },
)

export const HeartbeatReply = Type.Object({
  drain: Type.Boolean(),
  cancel: CancelList,
  intervals: Intervals,
  pluginsChanged: Type.Boolean({
    description: "re-read GET /plugins: the pool's desired plugins or sensor assignments changed recently",
  }),
})

export const PollQuery = Type.Object(
  {
    max: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    waitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  },
  { additionalProperties: false },
)

export const WireInstruction = Type.Object({
  id: Uuid,
  version: Type.Union([Type.String(), Type.Null()], {
    description:
      "the plugin version to run (the pool's desired version at enqueue time); null for instructions enqueued directly without one",
  }),
  idempotencyKey: Type.String({
    description: 'the same for every attempt of one workflow step: ctx.idempotencyKey',
  }),
  secrets: Type.Record(Type.String(), Type.String(), {
    description: "values of the organization secrets the plugin's manifest declares; never stored or logged",
  }),
  runId: Type.Union([Uuid, Type.Null()]),
  stepId: Type.Union([Type.String(), Type.Null()]),
  attempt: Type.Integer(),
  maxAttempts: Type.Integer(),
  plugin: Type.String(),
  operation: Type.String(),
  input: Json,
  config: Json,
  timeoutMs: Type.Integer(),
  leaseUntil: Type.String({ description: 'ISO time; renew with accept before it passes' }),
})

export const PollReply = Type.Object({
  instructions: Type.Array(WireInstruction),
  drain: Type.Boolean(),
  cancel: CancelList,
})

export const AcceptBody = Type.Object(
  { attempt: Type.Integer({ minimum: 1, maximum: ATTEMPT_MAX }) },
  { additionalProperties: false },
)
export const AcceptReply = Type.Object({ leaseUntil: Type.String(), cancel: Type.Boolean() })

export const ResultReply = Type.Object({
  instructionId: Uuid,
  attempt: Type.Integer(),
  instructionStatus: Type.String(),
  willRetry: Type.Boolean(),
  // Only when the report asked for next work (?next=N, N > 0): as in a poll answer.
  instructions: Type.Optional(Type.Array(WireInstruction)),
  drain: Type.Optional(Type.Boolean()),
  cancel: Type.Optional(CancelList),
})

export const EventsReply = Type.Object({ ids: Type.Array(Uuid), duplicates: Type.Integer() })

export const PluginsReply = Type.Object({
  pool: Pool,
  plugins: Type.Array(
    Type.Object({
      name: Type.String(),
      version: Type.String(),
      digest: Type.String(),
      signature: Type.String(),
      permissions: Json,
    }),
  ),
  sensors: Type.Array(
    Type.Object({
      id: Uuid,
      revision: Type.Integer(),
      plugin: Type.String(),
      version: Type.String(),
      config: Json,
      intervalMs: Type.Union([Type.Integer(), Type.Null()]),
      watch: Type.Boolean(),
      secrets: Type.Record(Type.String(), Type.String()),
    }),
    { description: 'sensor assignments (always empty for action agents)' },
  ),
})

export const RotateReply = Type.Object({ credential: Type.String() })

export type Intervals = Static<typeof Intervals>
export type RegisterReply = Static<typeof RegisterReply>
export type HeartbeatReply = Static<typeof HeartbeatReply>
export type WireInstruction = Static<typeof WireInstruction>
export type PollReply = Static<typeof PollReply>
export type AcceptReply = Static<typeof AcceptReply>
export type ResultReply = Static<typeof ResultReply>
export type PluginsReply = Static<typeof PluginsReply>
