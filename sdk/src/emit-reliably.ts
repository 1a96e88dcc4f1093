import type { EmittedEvent, Logger, StateStore } from './context.ts'
import { ErrorCodes, isPluginError } from './errors.ts'
import type { JsonValue } from './json.ts'

// A sensor that derives events from a change of state (up → down, a threshold crossed)
// must save its new state and emit the events; whichever it does first, a failure between
// the two loses an event or tells it twice. These two helpers make the pair safe: the
// events are saved with the state before they are emitted and removed after, and the next
// check emits what was left first, with the same dedupe keys (the orchestrator keeps one).

/**
 * What {@link emitReliably} and {@link flushPendingEvents} need of a sensor's context: any
 * `SensorContext` has it.
 *
 * @example
 * ```ts
 * async function reportChanges(ctx: ReliableEmitContext<{ url: string }>, events: EmittedEvent<{ url: string }>[]) {
 *   await emitReliably(ctx, 'pending', events)
 * }
 * ```
 */
export interface ReliableEmitContext<Event> {
  state: StateStore
  log: Logger
  emit(event: EmittedEvent<Event>): Promise<void>
}

/**
 * Saves `events` under `pendingKey` in `ctx.state`, runs `saveState` (the sensor's new
 * state), emits the events, then removes them. If the check fails anywhere in between, the
 * events stay saved and {@link flushPendingEvents} emits them at the start of the next
 * check. Give each event a `dedupeKey`: an event emitted again is then stored once.
 *
 * @example
 * ```ts
 * import { defineSensor, emitReliably, flushPendingEvents } from '@stavily/sdk'
 * export default defineSensor({
 *   // …
 *   async check(ctx, config) {
 *     await flushPendingEvents(ctx, 'pending')
 *     const up = await probe(ctx, config.url)
 *     const was = await ctx.state.get('up')
 *     const events = was === undefined || was === up ? [] : [
 *       { type: up ? 'service.up' : 'service.down', data: { url: config.url }, dedupeKey: `${config.url}:${Date.now()}` },
 *     ]
 *     await emitReliably(ctx, 'pending', events, () => ctx.state.set('up', up))
 *   },
 * })
 * ```
 */
export async function emitReliably<Event>(
  ctx: ReliableEmitContext<Event>,
  pendingKey: string,
  events: EmittedEvent<Event>[],
  saveState: () => Promise<void> = async () => {},
): Promise<void> {
  if (events.length > 0) await ctx.state.set(pendingKey, events as unknown as JsonValue)
  await saveState()
  for (const event of events) await ctx.emit(event)
  if (events.length > 0) await ctx.state.delete(pendingKey)
}

/**
 * Emits the events an earlier check saved with {@link emitReliably} but may not have
 * emitted, then forgets them. Call it first in each check, with the same key. A saved event
 * that the sensor's event schema now refuses (saved by an older version) is dropped with an
 * error log line instead of failing every check from then on.
 *
 * @example
 * ```ts
 * async check(ctx, config) {
 *   await flushPendingEvents(ctx, `pending:${config.url}`)
 *   // … then compute and emitReliably(ctx, `pending:${config.url}`, events, saveState)
 * }
 * ```
 */
export async function flushPendingEvents<Event>(
  ctx: ReliableEmitContext<Event>,
  pendingKey: string,
): Promise<void> {
  const saved = await ctx.state.get(pendingKey)
  if (!Array.isArray(saved)) return
  for (const event of saved) {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) continue
    try {
      await ctx.emit(event as unknown as EmittedEvent<Event>)
    } catch (error) {
      if (!isPluginError(error) || error.code !== ErrorCodes.INVALID_EVENT) throw error
      ctx.log.error('dropped a saved event that no longer matches the event schema', {
        type: String((event as { type?: unknown }).type),
        reason: error.message,
      })
    }
  }
  await ctx.state.delete(pendingKey)
}
