import { Type } from 'typebox'
import { describe, expect, it } from 'vitest'
import type { EmittedEvent } from './context.ts'
import { emitReliably, flushPendingEvents } from './emit-reliably.ts'
import { createTestContext } from './testing/index.ts'

const EventSchema = Type.Object({ url: Type.String(), up: Type.Boolean() })
type Event = { url: string; up: boolean }
const down: EmittedEvent<Event> = { type: 'service.down', data: { url: 'u', up: false }, dedupeKey: 'u:1' }
const up: EmittedEvent<Event> = { type: 'service.up', data: { url: 'u', up: true }, dedupeKey: 'u:2' }

function sensor(state: Record<string, never> | Record<string, unknown> = {}) {
  return createTestContext<Record<string, unknown>, Event>({
    kind: 'sensor',
    eventSchema: EventSchema,
    state: state as never,
  })
}

/** The harness's context whose emit fails once, after `okBefore` events went out: a check cut short. */
function failingAfter(ctx: ReturnType<typeof sensor>['ctx'], okBefore: number) {
  let sent = 0
  return {
    state: ctx.state,
    log: ctx.log,
    async emit(event: EmittedEvent<Event>) {
      if (sent++ === okBefore) throw new Error('connection reset')
      await ctx.emit(event)
    },
  }
}

describe('emitReliably and flushPendingEvents', () => {
  it('saves the state, emits the events, and leaves nothing pending', async () => {
    const t = sensor()
    await emitReliably(t.ctx, 'pending', [down, up], () => t.ctx.state.set('last', 'up'))
    const r = t.recorded()
    expect(r.events).toEqual([down, up])
    expect(r.state).toEqual({ last: 'up' })
    // Saved before the emit, removed after: the order that makes a crash safe.
    expect(r.calls.state.map((c) => `${c.op} ${c.key}`)).toEqual([
      'set pending',
      'set last',
      'delete pending',
    ])
  })

  it('touches no pending key when there is nothing to emit', async () => {
    const t = sensor()
    await emitReliably(t.ctx, 'pending', [])
    expect(t.recorded().calls.state).toEqual([])
  })

  it('a check cut short after saving the state: the next check emits what was left, once', async () => {
    const t = sensor()
    await expect(
      emitReliably(failingAfter(t.ctx, 1), 'pending', [down, up], () => t.ctx.state.set('last', 'up')),
    ).rejects.toThrow('connection reset')
    expect(t.recorded().events).toEqual([down])
    expect(t.recorded().state).toMatchObject({ last: 'up', pending: [down, up] })

    await flushPendingEvents(t.ctx, 'pending')
    // Both again, with their dedupe keys: the orchestrator stores `down` once.
    expect(t.recorded().events).toEqual([down, down, up])
    expect(t.recorded().state).toEqual({ last: 'up' })
    await flushPendingEvents(t.ctx, 'pending')
    expect(t.recorded().events).toHaveLength(3)
  })

  it('drops a saved event the event schema now refuses, with an error log, and emits the rest', async () => {
    const old = { type: 'service.down', data: { url: 'u', status: 'down' }, dedupeKey: 'u:0' }
    const t = sensor({ pending: [old, up] })
    await flushPendingEvents(t.ctx, 'pending')
    expect(t.recorded().events).toEqual([up])
    expect(t.recorded().state).toEqual({})
    expect(t.recorded().logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'dropped a saved event that no longer matches the event schema',
      }),
    )
  })

  it('keeps the saved events when emitting fails for another reason', async () => {
    const t = sensor({ pending: [down] })
    await expect(flushPendingEvents(failingAfter(t.ctx, 0), 'pending')).rejects.toThrow('connection reset')
    expect(t.recorded().state).toEqual({ pending: [down] })
  })
})
