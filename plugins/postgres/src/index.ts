import {
  ComparisonOperator,
  defineSensor,
  emitReliably,
  fingerprint,
  flushPendingEvents,
  type JsonValue,
  type ReliableEmitContext,
  type SensorContext,
  Type,
} from '@stavily/sdk'
import { Config, checkConfig, invalid, type Settings } from './config.ts'
import { type Cursor, newRows, startingCursor } from './new-rows.ts'
import { compareRows, readOverSeries } from './threshold.ts'

const Row = Type.Record(Type.String(), Type.Unknown())

const Threshold = Type.Object({
  name: Type.String(),
  connection: Type.String(),
  /** The row's columns other than the value: they name the series. */
  key: Row,
  row: Row,
  value: Type.Number(),
  operator: ComparisonOperator,
  threshold: Type.Number(),
  since: Type.String(),
})

const Resolved = Type.Object({
  name: Type.String(),
  connection: Type.String(),
  key: Row,
  /** The value now, or null when the row left the result. */
  value: Type.Union([Type.Number(), Type.Null()]),
  since: Type.String(),
})

const NewRow = Type.Object({
  name: Type.String(),
  connection: Type.String(),
  cursor: Type.Union([Type.String(), Type.Number()]),
  row: Row,
})

const Notification = Type.Object({
  name: Type.String(),
  connection: Type.String(),
  channel: Type.String(),
  payload: Type.String(),
  /** The payload parsed, when it is JSON; else null. */
  json: Type.Unknown(),
  processId: Type.Integer(),
})

/** How long one wait for notifications lasts before the loop looks at isStopping() again. */
const LISTEN_WAIT_MS = 10_000

/**
 * A PostgreSQL sensor on a connection the operator defines and grants. `check` runs a query:
 * `threshold` compares each row's value and emits `postgres.threshold` / `postgres.resolved`
 * on change; `newRows` emits `postgres.row` for each row past the cursor it keeps. `watch`
 * listens on a channel (`listen`) and emits `postgres.notification` for each NOTIFY. Queries
 * run read-only, as every sensor's do.
 */
export default defineSensor({
  config: Config,
  event: Type.Union([Threshold, Resolved, NewRow, Notification]),

  async check(ctx) {
    const s = checkConfig(ctx.config)
    if (s.mode === 'listen') {
      throw invalid('mode', 'listen runs as a watch: set `watch: true` on the trigger (and no interval)')
    }
    const id = fingerprint(`${s.connection}\n${s.mode}\n${s.name}`)
    const stateKey = `${s.mode}:${id}`
    const pendingKey = `pending:${id}`
    // The events are built as JSON (rows are JSON); the event schema checks them at emit.
    const reliable = ctx as unknown as ReliableEmitContext<JsonValue>
    await flushPendingEvents(reliable, pendingKey)
    const now = new Date().toISOString()
    const stored = await ctx.state.get(stateKey)
    if (s.mode === 'threshold') {
      const { events, over } = await compareRows(ctx, s, id, readOverSeries(stored), now)
      await emitReliably(reliable, pendingKey, events, () =>
        ctx.state.set(stateKey, over as unknown as JsonValue),
      )
      return
    }
    const tail = readTail(stored)
    if (tail === undefined) {
      // First check: begin at initialCursor, or after the rows there are now.
      const cursor = await startingCursor(ctx, s)
      ctx.log.info('watching for new rows', { name: s.name, after: cursor ?? null })
      await ctx.state.set(stateKey, { cursor: cursor ?? null })
      if (s.initialCursor === undefined) return
    }
    const from = tail?.cursor ?? (s.initialCursor as Cursor | undefined)
    const { events, cursor } = await newRows(ctx, s, id, from, now)
    await emitReliably(reliable, pendingKey, events, () =>
      ctx.state.set(stateKey, { cursor: cursor ?? null }),
    )
  },

  async watch(ctx) {
    const s = checkConfig(ctx.config)
    if (s.mode !== 'listen') {
      throw invalid('mode', `${s.mode} runs on a schedule: remove \`watch: true\` from the trigger`)
    }
    await listen(ctx, s)
  },
})

async function listen(
  ctx: SensorContext<unknown, unknown>,
  s: Extract<Settings, { mode: 'listen' }>,
): Promise<void> {
  const listener = await ctx.sql.listen(s.connection, s.channel)
  ctx.log.info('listening', { connection: s.connection, channel: s.channel })
  try {
    while (!ctx.isStopping()) {
      const { items, dropped } = await listener.next({ timeoutMs: LISTEN_WAIT_MS })
      if (dropped > 0) {
        ctx.log.warn('notifications dropped: more arrived than the agent buffers', {
          channel: s.channel,
          dropped,
        })
      }
      for (const n of items) {
        // NOTIFY carries no id: each one is its own event (no dedupe key).
        await ctx.emit({
          type: 'postgres.notification',
          data: {
            name: s.name,
            connection: s.connection,
            channel: n.channel,
            payload: n.payload,
            json: parseJson(n.payload),
            processId: n.processId,
          },
        })
      }
    }
  } finally {
    await listener.close()
  }
}

function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    return null
  }
}

/** The stored tail position: `cursor` null means started on an empty result (every row is new). */
function readTail(value: unknown): { cursor: Cursor | undefined } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('cursor' in value))
    return undefined
  const cursor = (value as { cursor: unknown }).cursor
  if (cursor === null) return { cursor: undefined }
  if (typeof cursor === 'string' || typeof cursor === 'number') return { cursor }
  return undefined
}
