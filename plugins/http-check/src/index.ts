import {
  defineSensor,
  type EmittedEvent,
  emitReliably,
  fingerprint,
  flushPendingEvents,
  type JsonValue,
  Type,
} from '@stavily/sdk'
import { Config, checkConfig } from './config.ts'
import { probe } from './probe.ts'
import { readState, step } from './transition.ts'

const Down = Type.Object({
  name: Type.String(),
  url: Type.String(),
  reason: Type.Union([
    Type.Literal('status'),
    Type.Literal('latency'),
    Type.Literal('body'),
    Type.Literal('timeout'),
    Type.Literal('unreachable'),
  ]),
  detail: Type.String(),
  /** The HTTP status, or null when no response came back. */
  status: Type.Union([Type.Integer(), Type.Null()]),
  latencyMs: Type.Union([Type.Integer(), Type.Null()]),
  /** When the first failed check of this outage happened (ISO 8601). */
  since: Type.String(),
  consecutiveFailures: Type.Integer(),
})

const Up = Type.Object({
  name: Type.String(),
  url: Type.String(),
  status: Type.Integer(),
  latencyMs: Type.Integer(),
  /** When the outage began, or null if the sensor did not see it begin. */
  downSince: Type.Union([Type.String(), Type.Null()]),
  downtimeMs: Type.Union([Type.Integer(), Type.Null()]),
})

/**
 * Requests a URL on every check and compares status, latency and body with what the
 * config expects. It emits `http-check.down` when the target starts failing and
 * `http-check.up` when it recovers, never once per check: the last known status of each
 * target is kept in ctx.state.
 */
export default defineSensor({
  config: Config,
  event: Type.Union([Down, Up]),

  async check(ctx) {
    const settings = checkConfig(ctx.config)
    const id = fingerprint(settings.name)
    const stateKey = `target:${id}`
    const pendingKey = `pending:${id}`
    await flushPendingEvents(ctx, pendingKey)
    const previous = readState(await ctx.state.get(stateKey), settings.name)

    const result = await probe(ctx, settings)
    const now = new Date().toISOString()
    const { next, transition } = step(previous, result, now, settings)
    ctx.log.debug('http check', {
      name: settings.name,
      up: result.up,
      status: result.status,
      latencyMs: result.latencyMs,
      state: next.status,
    })

    // The dedupe key names the outage by when it began, so an event emitted again after a
    // failure (see emitReliably) starts no second run.
    const events: EmittedEvent<JsonValue>[] = []
    if (transition?.kind === 'down' && !result.up) {
      ctx.log.warn('target is down', { name: settings.name, reason: result.reason, detail: result.detail })
      events.push({
        type: 'http-check.down',
        data: {
          name: settings.name,
          url: settings.url,
          reason: result.reason,
          detail: result.detail,
          status: result.status,
          latencyMs: result.latencyMs,
          since: transition.since,
          consecutiveFailures: transition.failures,
        },
        dedupeKey: `http-check:${id}:down:${transition.since}`,
        occurredAt: now,
      })
    } else if (transition?.kind === 'up' && result.up) {
      const downtimeMs =
        transition.downSince === null ? null : Date.parse(now) - Date.parse(transition.downSince)
      ctx.log.info('target is up again', { name: settings.name, downtimeMs })
      events.push({
        type: 'http-check.up',
        data: {
          name: settings.name,
          url: settings.url,
          status: result.status,
          latencyMs: result.latencyMs,
          downSince: transition.downSince,
          downtimeMs: downtimeMs !== null && Number.isFinite(downtimeMs) ? downtimeMs : null,
        },
        dedupeKey: `http-check:${id}:up:${transition.downSince ?? now}`,
        occurredAt: now,
      })
    }
    await emitReliably(ctx, pendingKey, events, () => ctx.state.set(stateKey, { ...next }))
  },
})
