import { type FetchResponse, isConfigurationError, isPluginError, type SensorContext } from '@stavily/sdk'
import type { Settings } from './config.ts'

/** Why a check counted as down. */
export type DownReason = 'status' | 'latency' | 'body' | 'timeout' | 'unreachable'

/** What one request found. */
export type Probe =
  | { up: true; status: number; latencyMs: number }
  | { up: false; reason: DownReason; detail: string; status: number | null; latencyMs: number | null }

/** The secret a configured `secretHeader` carries. */
export const SECRET_NAME = 'HTTP_CHECK_SECRET'
/** The agent's code for a fetch that ran past its timeout (see docs/permissions.md). */
const FETCH_TIMEOUT = 'STAVILY_ERR_SANDBOX_FETCH_TIMEOUT'
/** How much of an unexpected body an event carries: enough to recognise an error page. */
const DETAIL_EXCERPT = 200

export async function probe(ctx: SensorContext<unknown, unknown>, settings: Settings): Promise<Probe> {
  const headers = { ...settings.headers }
  if (settings.secretHeader !== undefined) {
    // Read before the clock starts, and outside the try: a missing grant is a config error.
    headers[settings.secretHeader.name] =
      `${settings.secretHeader.prefix}${await ctx.secrets.get(SECRET_NAME)}`
  }
  const started = Date.now()
  let res: FetchResponse
  try {
    res = await ctx.fetch(settings.url, {
      method: settings.method,
      headers,
      timeoutMs: settings.timeoutMs,
    })
  } catch (error) {
    // A denied host or a malformed request is the operator's configuration to fix, not an
    // outage of the target: fail the check so it shows up as an error, never as "down".
    if (isConfigurationError(error)) throw error
    const message = error instanceof Error ? error.message : String(error)
    const timedOut = isPluginError(error) && error.code === FETCH_TIMEOUT
    return {
      up: false,
      reason: timedOut ? 'timeout' : 'unreachable',
      detail: timedOut ? `no response within ${settings.timeoutMs} ms` : message,
      status: null,
      latencyMs: null,
    }
  }
  // Measured around ctx.fetch, so it includes the agent's own small overhead per request.
  const latencyMs = Math.max(0, Date.now() - started)
  const down = (reason: DownReason, detail: string): Probe => ({
    up: false,
    reason,
    detail,
    status: res.status,
    latencyMs,
  })
  if (!statusExpected(res.status, settings.expectStatus)) {
    return down(
      'status',
      `HTTP ${res.status}, expected ${settings.expectStatus.join(', ')}${excerpt(res.body)}`,
    )
  }
  if (settings.maxLatencyMs !== undefined && latencyMs > settings.maxLatencyMs) {
    return down('latency', `answered in ${latencyMs} ms, more than the ${settings.maxLatencyMs} ms allowed`)
  }
  if (settings.bodyContains !== undefined && !res.body.includes(settings.bodyContains)) {
    return down(
      'body',
      `the body does not contain ${JSON.stringify(settings.bodyContains)}${excerpt(res.body)}`,
    )
  }
  if (settings.bodyMatches !== undefined && !settings.bodyMatches.test(res.body)) {
    return down('body', `the body does not match /${settings.bodyMatches.source}/${excerpt(res.body)}`)
  }
  return { up: true, status: res.status, latencyMs }
}

export function statusExpected(status: number, expected: readonly (number | string)[]): boolean {
  return expected.some((entry) =>
    typeof entry === 'number' ? entry === status : Math.floor(status / 100) === Number(entry[0]),
  )
}

function excerpt(body: string): string {
  const text = body.trim()
  if (text === '') return ''
  return `: ${text.length > DETAIL_EXCERPT ? `${text.slice(0, DETAIL_EXCERPT)}…` : text}`
}
