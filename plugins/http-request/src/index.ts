import {
  type ActionContext,
  defineAction,
  ErrorCodes,
  isPluginError,
  PluginError,
  type Static,
  Type,
} from '@stavily/sdk'
import { backoffMs, type RetryPolicy, retryAfterMs } from './retry.ts'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  timeoutMs: 10_000,
  /** Two more tries ride out a restart or a brief overload without hiding a real outage. */
  retries: 2,
  delayMs: 500,
  /** A Retry-After longer than this is the step's retry policy's business, not one call's. */
  maxDelayMs: 10_000,
  /** Statuses that say "try again later"; other 4xx are the request's own fault. */
  retryStatuses: [408, 425, 429, 500, 502, 503, 504],
  maxBodyChars: 64 * 1024,
} as const

/** The secrets a header may carry (secret names cannot be left to the operator). */
export const SECRET_NAMES = ['HTTP_REQUEST_TOKEN', 'HTTP_REQUEST_SECRET', 'HTTP_REQUEST_PASSWORD'] as const
/** Time kept back from the call's deadline to report, rather than be cut off mid-wait. */
const DEADLINE_MARGIN_MS = 1000
const EXCERPT = 300

const Method = Type.Union([
  Type.Literal('GET'),
  Type.Literal('HEAD'),
  Type.Literal('POST'),
  Type.Literal('PUT'),
  Type.Literal('PATCH'),
  Type.Literal('DELETE'),
])
const HeaderName = Type.String({ pattern: '^[A-Za-z0-9-]+$', maxLength: 100 })
const StatusSpec = Type.Union([
  Type.Integer({ minimum: 100, maximum: 599 }),
  Type.String({ pattern: '^[1-5]xx$' }),
])

const Config = Type.Object(
  {
    url: Type.String({
      pattern: '^https?://[^\\s/?#]+',
      maxLength: 2048,
      description: 'The API base URL; its host must be granted (net: $granted)',
    }),
    method: Type.Optional(Method),
    headers: Type.Optional(Type.Record(HeaderName, Type.String({ maxLength: 8192 }))),
    secretHeaders: Type.Optional(
      Type.Array(
        Type.Object(
          {
            header: HeaderName,
            secret: Type.Union([
              Type.Literal('HTTP_REQUEST_TOKEN'),
              Type.Literal('HTTP_REQUEST_SECRET'),
              Type.Literal('HTTP_REQUEST_PASSWORD'),
            ]),
            prefix: Type.Optional(Type.String({ maxLength: 100 })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 3 },
      ),
    ),
    expectStatus: Type.Optional(Type.Array(StatusSpec, { minItems: 1, maxItems: 50 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    retryDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    maxRetryDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    retryStatuses: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { maxItems: 50 })),
    maxBodyChars: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 * 1024 })),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  {
    method: Type.Optional(Method),
    /** Appended to config.url: "/apis/apps/v1/namespaces/shop/deployments/web/scale". */
    path: Type.Optional(Type.String({ pattern: '^/', maxLength: 2048 })),
    query: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 2048 }))),
    headers: Type.Optional(Type.Record(HeaderName, Type.String({ maxLength: 8192 }))),
    /** Sent as JSON (content-type application/json unless a header says otherwise). */
    body: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
)

const Output = Type.Object({
  url: Type.String(),
  method: Type.String(),
  status: Type.Integer(),
  ok: Type.Boolean(),
  headers: Type.Record(Type.String(), Type.String()),
  /** The body parsed as JSON, or null when it is empty or not JSON. */
  json: Type.Unknown(),
  /** The body as text (its first maxBodyChars characters). */
  body: Type.String(),
  bodyTruncated: Type.Boolean(),
  attempts: Type.Integer(),
  durationMs: Type.Integer(),
})

type Config = Static<typeof Config>
type Ctx = ActionContext<Config>

/**
 * Calls an HTTP API once (with retries): the building block for an orchestrator's or a
 * cloud's API (scale a deployment, open a ticket). A status outside `expectStatus` fails the
 * step with HTTP_REQUEST_UNEXPECTED_STATUS; a retryable status or a network failure is tried
 * again after a backoff that honours Retry-After, then fails with HTTP_REQUEST_UNAVAILABLE
 * (retryable, so the step's own retry policy takes over).
 */
export default defineAction({
  config: Config,
  input: Input,
  output: Output,

  async run(ctx, input) {
    const started = Date.now()
    const method = input.method ?? ctx.config.method ?? (input.body === undefined ? 'GET' : 'POST')
    const url = buildUrl(ctx.config.url, input.path, input.query)
    const headers: Record<string, string> = { ...ctx.config.headers, ...input.headers }
    for (const h of ctx.config.secretHeaders ?? []) {
      headers[h.header.toLowerCase()] = `${h.prefix ?? ''}${await ctx.secrets.get(h.secret)}`
    }
    let body: string | undefined
    if (input.body !== undefined) {
      body = JSON.stringify(input.body)
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type'))
        headers['content-type'] = 'application/json'
    }
    // Every attempt of the step carries the same key: an API that deduplicates applies it once.
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'idempotency-key'))
      headers['idempotency-key'] = ctx.idempotencyKey
    const policy: RetryPolicy = {
      limit: ctx.config.retries ?? DEFAULTS.retries,
      delayMs: ctx.config.retryDelayMs ?? DEFAULTS.delayMs,
      maxDelayMs: ctx.config.maxRetryDelayMs ?? DEFAULTS.maxDelayMs,
      statuses: ctx.config.retryStatuses ?? [...DEFAULTS.retryStatuses],
    }
    const expect = ctx.config.expectStatus ?? ['2xx']

    for (let attempt = 1; ; attempt++) {
      let failure: { message: string; retryAfter: number | undefined; status: number | null }
      try {
        const res = await ctx.fetch(url, {
          method,
          headers,
          ...(body === undefined ? {} : { body }),
          timeoutMs: ctx.config.timeoutMs ?? DEFAULTS.timeoutMs,
        })
        if (matches(res.status, expect)) {
          return result(ctx, res, method, attempt, started)
        }
        if (!policy.statuses.includes(res.status)) {
          throw new PluginError(
            'HTTP_REQUEST_UNEXPECTED_STATUS',
            `${method} ${origin(url)} answered HTTP ${res.status}, expected ${expect.join(', ')}${excerpt(res.body)}`,
            { data: { status: res.status, body: res.body.slice(0, 4096), headers: shareable(res.headers) } },
          )
        }
        failure = {
          message: `HTTP ${res.status}${excerpt(res.body)}`,
          retryAfter: retryAfterMs(res.headers['retry-after'], Date.now()),
          status: res.status,
        }
      } catch (err) {
        // Network failures and timeouts are retryable sandbox errors; a denial or our own error is not.
        if (!isPluginError(err) || !err.retryable || err.code === ErrorCodes.PERMISSION_DENIED) throw err
        failure = { message: err.message, retryAfter: undefined, status: null }
      }
      const wait = backoffMs(policy, attempt, failure.retryAfter)
      const outOfTime = Date.now() + wait + DEADLINE_MARGIN_MS > ctx.deadline
      const tooLong = failure.retryAfter !== undefined && failure.retryAfter > policy.maxDelayMs
      if (attempt > policy.limit || outOfTime || tooLong) {
        throw new PluginError(
          'HTTP_REQUEST_UNAVAILABLE',
          `${method} ${origin(url)}: ${failure.message} (after ${attempt} attempt${attempt === 1 ? '' : 's'})`,
          {
            retryable: true,
            data: {
              status: failure.status,
              attempts: attempt,
              ...(failure.retryAfter === undefined ? {} : { retryAfterMs: failure.retryAfter }),
            },
          },
        )
      }
      ctx.log.warn('retrying', {
        url: origin(url),
        attempt,
        waitMs: wait,
        reason: failure.message.slice(0, 200),
      })
      await pause(ctx, wait)
    }
  },
})

/** The sandbox gives actions no timer: the wait is a `sleep` process (granted like any command). */
async function pause(ctx: Ctx, ms: number): Promise<void> {
  if (ms <= 0) return
  const r = await ctx.exec('sleep', [(ms / 1000).toFixed(3)], { timeoutMs: ms + 5000 })
  if (r.code !== 0) {
    throw new PluginError(
      'HTTP_REQUEST_FAILED',
      `sleep between attempts failed: ${r.stderr.trim() || r.signal}`,
      {
        retryable: true,
      },
    )
  }
}

function result(
  ctx: Ctx,
  res: { status: number; ok: boolean; url: string; headers: Record<string, string>; body: string },
  method: string,
  attempts: number,
  started: number,
) {
  const max = ctx.config.maxBodyChars ?? DEFAULTS.maxBodyChars
  let json: unknown = null
  if (res.body.trim() !== '') {
    try {
      json = JSON.parse(res.body)
    } catch {
      json = null
    }
  }
  ctx.log.info('request done', { url: origin(res.url), status: res.status, attempts })
  return {
    url: res.url,
    method,
    status: res.status,
    ok: res.ok,
    headers: shareable(res.headers),
    json,
    body: res.body.slice(0, max),
    bodyTruncated: res.body.length > max,
    attempts,
    durationMs: Math.max(0, Date.now() - started),
  }
}

/** Response headers without cookies: outputs and errors are stored with the run and shown to operators. */
function shareable(headers: Record<string, string>): Record<string, string> {
  const { 'set-cookie': _cookie, ...rest } = headers
  return rest
}

function matches(status: number, expect: (number | string)[]): boolean {
  return expect.some((e) =>
    typeof e === 'number' ? e === status : Number(e[0]) === Math.floor(status / 100),
  )
}

/** config.url + input.path + input.query; the path may not climb out of the base ("..", "//"). */
function buildUrl(base: string, path: string | undefined, query: Record<string, string> | undefined): string {
  let url = base.replace(/\/+$/, '')
  if (path !== undefined) {
    if (
      path.split('/').some((seg) => seg === '..' || seg === '.') ||
      path.includes('//') ||
      /[?#\s]/.test(path)
    ) {
      throw new PluginError(
        ErrorCodes.INVALID_INPUT,
        `input.path: ${JSON.stringify(path)} must be a plain path (no "..", "//", "?", "#" or spaces); put parameters in input.query`,
        {
          data: { field: 'path' },
        },
      )
    }
    url += path
  } else if (base.endsWith('/')) {
    url += '/'
  }
  const entries = Object.entries(query ?? {})
  if (entries.length > 0) {
    const qs = entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')
    url += (url.includes('?') ? '&' : '?') + qs
  }
  return url
}

function origin(url: string): string {
  const m = /^https?:\/\/[^/?#]+/.exec(url)
  return m ? m[0] : url
}

function excerpt(body: string): string {
  const text = body.trim()
  return text === '' ? '' : `: ${text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text}`
}
