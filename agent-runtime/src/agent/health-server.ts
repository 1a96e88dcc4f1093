// The agent's optional local HTTP listener (off unless --health-listen is set): /healthz
// (the process answers), /readyz (enrolled, plugins synced, outbox healthy; 503 with the
// reasons otherwise), /metrics (Prometheus text). Read-only and unauthenticated, like the
// orchestrator's own: bind it to loopback or a monitoring network, not to the world.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { configError } from './errors.ts'

export interface Readiness {
  ready: boolean
  /** Why it is not ready, one sentence each (empty when ready). */
  reasons: string[]
  [detail: string]: unknown
}

export interface HealthSources {
  readiness(): Readiness
  metrics(): Promise<string>
}

export interface ListenAddress {
  host: string
  port: number
}

/** `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (the last two on 127.0.0.1). */
export function parseListen(value: string, where: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$|^(\d{1,5})$/.exec(value.trim())
  const port = Number(m?.[3] ?? m?.[4])
  if (!m || !Number.isInteger(port) || port > 65_535)
    throw configError(where, `expected HOST:PORT (e.g. 127.0.0.1:9464), got ${JSON.stringify(value)}`)
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port }
}

export async function startHealthServer(at: ListenAddress, sources: HealthSources): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(body)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return send(405, 'application/json', '{"error":"method not allowed: use GET"}\n')
    }
    if (path === '/healthz') return send(200, 'application/json', '{"status":"ok"}\n')
    if (path === '/readyz') {
      const r = sources.readiness()
      return send(
        r.ready ? 200 : 503,
        'application/json',
        `${JSON.stringify({ status: r.ready ? 'ready' : 'unavailable', ...r })}\n`,
      )
    }
    if (path === '/metrics') {
      sources.metrics().then(
        (text) => send(200, 'text/plain; version=0.0.4; charset=utf-8', text),
        (err: Error) => send(500, 'application/json', `${JSON.stringify({ error: err.message })}\n`),
      )
      return
    }
    send(404, 'application/json', '{"error":"not found: /healthz, /readyz or /metrics"}\n')
  })
  // A scraper's idle keep-alive connection must not hold the agent's shutdown.
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        configError('healthListen', `cannot listen on ${at.host}:${at.port}: ${err.code ?? err.message}`),
      ),
    )
    server.listen(at.port, at.host, () => resolve())
  })
  return server
}

export function boundAddress(server: Server): string {
  const a = server.address() as AddressInfo
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
}

export async function closeHealthServer(server: Server | undefined): Promise<void> {
  if (!server) return
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
