// What an agent reports over /agents/v1: step results and sensor events. The orchestrator's
// routes validate request bodies with these schemas, and the agent checks every result and
// event with the very same schemas (`reportProblem`) before writing it to its outbox, so a
// value the agent accepted is one the server accepts. A breaking change here is /agents/v2.
import { type Static, Type } from 'typebox'

export const AGENT_API_LIMITS = {
  /** The orchestrator's default request body limit (a 413 above it); agents batch under it. */
  bodyBytes: 1_048_576,
  /** Events per POST /events: a batch is one transaction on the server. */
  eventsPerRequest: 500,
  /** Log entries per result: past it the first lines are kept, then a marker (result-logs.ts). */
  logsPerResult: 2_000,
  /** Bytes of log entries per result (as JSON): a quarter of the body, so the output always fits. */
  logBytesPerResult: 262_144,
  /** One log line's message (an exec's stderr is one line): longer ones are cut, saying by how much. */
  logMessageLength: 16_384,
  /** A result error's code and message: codes are short identifiers, messages are for people. */
  errorCodeLength: 200,
  errorMessageLength: 10_000,
  /** An event's source (plugin name) and type. */
  eventNameLength: 200,
  /** An event's dedupe key. */
  dedupeKeyLength: 500,
  /** Instructions one result report may ask for (`?next=`), as a poll's `max`. */
  resultNextMax: 100,
} as const

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
const Uuid = Type.String({ pattern: UUID_PATTERN, description: 'a UUID' })
/** Free-form JSON (output, event data, error data); `findWireProblem` applies to it. */
const Json = Type.Unknown()

export const ResultError = Type.Object(
  {
    code: Type.String({ maxLength: AGENT_API_LIMITS.errorCodeLength }),
    message: Type.String({ maxLength: AGENT_API_LIMITS.errorMessageLength }),
    retryable: Type.Optional(Type.Boolean()),
    data: Type.Optional(Json),
  },
  { additionalProperties: false },
)

export const ResultBody = Type.Object(
  {
    // An attempt is an int4 column on the server.
    attempt: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
    status: Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')]),
    output: Type.Optional(Json),
    error: Type.Optional(ResultError),
    // No item count here: the orchestrator clips logs (clipLogs) rather than refuse a result
    // for its narration; the body limit bounds them.
    logs: Type.Optional(Type.Array(Json)),
  },
  { additionalProperties: false },
)

/**
 * The query of a result report. `next`: how many instructions the agent can take now; the
 * reply then carries up to that many (`instructions`, claimed for it exactly as a poll's,
 * without waiting), with `drain` and `cancel` as a poll answer has them. 0 (the default, and
 * what an agent older than this sends) asks for nothing and the reply is the answer alone.
 * A query rather than a body field: an orchestrator older than this ignores it.
 */
export const ResultQuery = Type.Object(
  {
    next: Type.Optional(Type.Integer({ minimum: 0, maximum: AGENT_API_LIMITS.resultNextMax })),
  },
  { additionalProperties: false },
)

export const WireEvent = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: AGENT_API_LIMITS.eventNameLength }),
    type: Type.String({ minLength: 1, maxLength: AGENT_API_LIMITS.eventNameLength }),
    data: Type.Optional(Json),
    dedupeKey: Type.Optional(Type.String({ minLength: 1, maxLength: AGENT_API_LIMITS.dedupeKeyLength })),
    // RFC 3339 allows year 0000, which PostgreSQL has no date for (a 500 on the server):
    // refused here, so the agent's own check refuses it too.
    occurredAt: Type.Optional(
      Type.String({
        format: 'date-time',
        pattern: '^(?!0000-)',
        description: 'RFC 3339, years 0001 to 9999',
      }),
    ),
    sensorId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
)

export const EventsBody = Type.Object(
  {
    events: Type.Array(WireEvent, { minItems: 1, maxItems: AGENT_API_LIMITS.eventsPerRequest }),
  },
  { additionalProperties: false },
)

export type ResultBody = Static<typeof ResultBody>
export type ResultQuery = Static<typeof ResultQuery>
export type WireEvent = Static<typeof WireEvent>
export type EventsBody = Static<typeof EventsBody>
