import {
  type EmittedEvent,
  ErrorCodes,
  isPluginError,
  type JsonValue,
  type SensorContext,
} from '@stavily/sdk'

/**
 * Emits events so that none is lost and none is told twice, whatever fails in between:
 * the events are saved in ctx.state (with the sensor's new state) BEFORE they are emitted,
 * and removed after. A check that fails half-way leaves them saved, and the next check
 * emits them again first, with the same dedupe keys, so the orchestrator keeps one of each.
 */
export async function emitReliably(
  ctx: SensorContext<unknown, unknown>,
  pendingKey: string,
  events: EmittedEvent<JsonValue>[],
  saveState: () => Promise<void>,
): Promise<void> {
  if (events.length > 0) await ctx.state.set(pendingKey, events as unknown as JsonValue)
  await saveState()
  for (const event of events) await ctx.emit(event)
  if (events.length > 0) await ctx.state.delete(pendingKey)
}

/** Emits what an earlier check saved but may not have emitted. */
export async function flushPending(ctx: SensorContext<unknown, unknown>, pendingKey: string): Promise<void> {
  const saved = await ctx.state.get(pendingKey)
  if (!Array.isArray(saved)) return
  for (const event of saved) {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) continue
    try {
      await ctx.emit(event as unknown as EmittedEvent<JsonValue>)
    } catch (error) {
      // Saved by an older version whose event shape this one no longer emits: keeping it
      // would fail every check from now on, so it is dropped, loudly.
      if (!isPluginError(error) || error.code !== ErrorCodes.INVALID_EVENT) throw error
      ctx.log.error('dropped a saved event that no longer matches the event schema', {
        type: String((event as { type?: unknown }).type),
        reason: error.message,
      })
    }
  }
  await ctx.state.delete(pendingKey)
}
