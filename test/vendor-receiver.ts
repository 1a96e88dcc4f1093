// A loopback stand-in for PagerDuty's Events API v2 and Opsgenie's Alert API that checks
// each request the way the vendors document it (path, method, headers, JSON body, required
// fields and their values) and answers as they do: 202 with the vendor's body when the
// request is valid, else the vendor's own error shape. It keeps the incidents it opened, by
// dedup key or alias, so a test sees a resolve close what a trigger opened.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

export interface Received {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: unknown
}

export interface VendorReceiver {
  url: string
  port: number
  received: Received[]
  /** dedup key or alias → 'triggered' | 'acknowledged' | 'resolved'. */
  incidents: Map<string, string>
  /** Answers the next requests with this status and body instead (a vendor outage, a throttle). */
  failNext(status: number, body: unknown, headers?: Record<string, string>, times?: number): void
  close(): Promise<void>
}

const SEVERITIES = ['critical', 'error', 'warning', 'info']
const PRIORITIES = ['P1', 'P2', 'P3', 'P4', 'P5']

export async function vendorReceiver(opts: {
  routingKey: string
  genieKey: string
}): Promise<VendorReceiver> {
  const received: Received[] = []
  const incidents = new Map<string, string>()
  let failures: { status: number; body: unknown; headers: Record<string, string>; left: number } | undefined

  const answer = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))

  function pagerduty(req: Received, res: ServerResponse) {
    const errors: string[] = []
    const body = req.body as Record<string, unknown> | undefined
    if (req.headers['content-type'] !== 'application/json')
      errors.push("'Content-Type' must be application/json")
    if (!body || typeof body !== 'object')
      return answer(res, 400, {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ['Body is not JSON'],
      })
    if (body.routing_key !== opts.routingKey) errors.push('Invalid routing key')
    const action = body.event_action
    if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve')
      errors.push("'event_action' is invalid")
    const key = body.dedup_key
    if (typeof key !== 'string' || key.length === 0 || key.length > 255) errors.push("'dedup_key' is invalid")
    if (action === 'trigger') {
      const p = body.payload as Record<string, unknown> | undefined
      if (!p || typeof p !== 'object') errors.push("'payload' is missing")
      else {
        if (typeof p.summary !== 'string' || p.summary.length > 1024)
          errors.push("'payload.summary' is invalid")
        if (typeof p.source !== 'string' || p.source === '') errors.push("'payload.source' is missing")
        if (!SEVERITIES.includes(p.severity as string)) errors.push("'payload.severity' is invalid")
        if (
          p.custom_details !== undefined &&
          (typeof p.custom_details !== 'object' || p.custom_details === null)
        )
          errors.push("'payload.custom_details' must be an object")
      }
    } else {
      for (const k of Object.keys(body)) {
        if (!['routing_key', 'event_action', 'dedup_key'].includes(k))
          errors.push(`'${k}' is not used by ${String(action)}`)
      }
    }
    if (errors.length > 0)
      return answer(res, 400, { status: 'invalid event', message: 'Event object is invalid', errors })
    incidents.set(
      key as string,
      action === 'trigger' ? 'triggered' : action === 'acknowledge' ? 'acknowledged' : 'resolved',
    )
    answer(res, 202, { status: 'success', message: 'Event processed', dedup_key: key })
  }

  function opsgenie(req: Received, res: ServerResponse) {
    const requestId = `req-${received.length}`
    if (req.headers.authorization !== `GenieKey ${opts.genieKey}`)
      return answer(res, 401, { message: 'Could not authenticate', took: 0, requestId })
    if (req.headers['content-type'] !== 'application/json')
      return answer(res, 415, { message: 'Content-Type must be application/json', took: 0, requestId })
    const url = new URL(req.path, 'http://x')
    const body = (req.body ?? {}) as Record<string, unknown>
    if (url.pathname === '/v2/alerts' && url.search === '') {
      const errors: Record<string, string> = {}
      if (typeof body.message !== 'string' || body.message === '')
        errors.message = 'Message can not be empty.'
      else if (body.message.length > 130) errors.message = 'Message can not be longer than 130 characters.'
      if (body.alias !== undefined && (typeof body.alias !== 'string' || body.alias.length > 512))
        errors.alias = 'Invalid alias.'
      if (body.priority !== undefined && !PRIORITIES.includes(body.priority as string))
        errors.priority = 'Invalid priority.'
      if (
        body.details !== undefined &&
        Object.values(body.details as object).some((v) => typeof v !== 'string')
      )
        errors.details = 'Details values must be strings.'
      if (Object.keys(errors).length > 0)
        return answer(res, 422, {
          message: 'Request body is not processable. Please check the errors.',
          errors,
          took: 0,
          requestId,
        })
      incidents.set(body.alias as string, 'triggered')
      return answer(res, 202, { result: 'Request will be processed', took: 0.01, requestId })
    }
    const m = /^\/v2\/alerts\/([^/]+)\/(close|acknowledge)$/.exec(url.pathname)
    if (m && url.searchParams.get('identifierType') === 'alias') {
      incidents.set(decodeURIComponent(m[1]!), m[2] === 'close' ? 'resolved' : 'acknowledged')
      return answer(res, 202, { result: 'Request will be processed', took: 0.01, requestId })
    }
    answer(res, 404, { message: `No route for ${req.method} ${req.path}`, took: 0, requestId })
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        body = undefined
      }
      const got: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body }
      received.push(got)
      if (failures && failures.left > 0) {
        failures.left--
        return answer(res, failures.status, failures.body, failures.headers)
      }
      if (got.method !== 'POST') return answer(res, 405, { message: 'Method not allowed' })
      if (got.path === '/v2/enqueue') return pagerduty(got, res)
      if (got.path.startsWith('/v2/alerts')) return opsgenie(got, res)
      answer(res, 404, { message: `No route for ${got.method} ${got.path}` })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    incidents,
    failNext(status, body, headers = {}, times = 1) {
      failures = { status, body, headers, left: times }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
