import { defineSensor, ErrorCodes, isPluginError, Type } from '@stavily/sdk'

/** Long enough for a slow but healthy endpoint, short enough to notice a hang at the next check. */
const DEFAULT_TIMEOUT_MS = 5000

const Config = Type.Object({
  url: Type.String({
    pattern: '^https?://[^/\\s]+',
    description: 'The URL to check; its host must be listed in permissions.net in package.json',
  }),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60_000, description: 'Default 5000' })),
})

const Event = Type.Object({
  url: Type.String(),
  /** The HTTP status, or null when no response came back (refused, timed out, DNS). */
  status: Type.Union([Type.Integer(), Type.Null()]),
  detail: Type.String(),
  /** When the URL was first seen down (ISO 8601); the same for the down and the recovered event. */
  since: Type.String(),
})

/**
 * Checks a URL on every scheduled tick. It emits `http.down` once when the URL stops
 * answering with 2xx and `http.recovered` once when it answers again: the state store
 * remembers the outage between checks, so a long outage starts one workflow run, not one per check.
 */
export default defineSensor({
  config: Config,
  event: Event,

  async check(ctx) {
    const { url } = ctx.config
    const stateKey = `down-since:${url}`
    const downSince = await ctx.state.get(stateKey)

    let status: number | null = null
    let detail: string
    try {
      const res = await ctx.fetch(url, { timeoutMs: ctx.config.timeoutMs ?? DEFAULT_TIMEOUT_MS })
      status = res.status
      detail = `HTTP ${res.status}`
    } catch (error) {
      // A denied host is a configuration problem, not an outage: fail the check so the
      // operator sees it, instead of reporting the URL as down.
      if (isPluginError(error) && error.code === ErrorCodes.PERMISSION_DENIED) throw error
      detail = error instanceof Error ? error.message : String(error)
    }
    const up = status !== null && status >= 200 && status < 300

    if (!up && typeof downSince !== 'string') {
      const since = new Date().toISOString()
      await ctx.state.set(stateKey, since)
      ctx.log.warn('URL is down', { url, detail })
      // The dedupe key names this outage, so a retried check cannot start a second run.
      await ctx.emit({
        type: 'http.down',
        data: { url, status, detail, since },
        dedupeKey: `${url}#${since}`,
      })
    } else if (up && typeof downSince === 'string') {
      await ctx.state.delete(stateKey)
      ctx.log.info('URL recovered', { url, since: downSince })
      await ctx.emit({
        type: 'http.recovered',
        data: { url, status, detail, since: downSince },
        dedupeKey: `${url}#${downSince}#recovered`,
      })
    }
  },
})
