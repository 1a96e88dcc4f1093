// A loopback HTTP proxy in front of the orchestrator that can answer some requests itself
// (an outage of one route, or a server failing on one report), as a load balancer would.
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Gate {
  url: string
  /** Requests answered by the gate itself so far, by rule name. */
  answered: Map<string, number>
  /** While set, matching requests get `status` from the gate instead of the orchestrator. */
  rule(name: string, match: (method: string, path: string, body: string) => boolean, status: number): void
  clear(name: string): void
  close(): Promise<void>
}

export async function gate(target: string): Promise<Gate> {
  const to = new URL(target)
  const rules = new Map<string, { match: (m: string, p: string, b: string) => boolean; status: number }>()
  const answered = new Map<string, number>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      for (const [name, r] of rules) {
        if (!r.match(req.method ?? 'GET', req.url ?? '/', body.toString('utf8'))) continue
        answered.set(name, (answered.get(name) ?? 0) + 1)
        res.writeHead(r.status, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { code: 'GATE', message: `answered by the test gate (${name})` } }))
        return
      }
      const fwd = request(
        {
          host: to.hostname,
          port: to.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: to.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers)
          up.pipe(res)
        },
      )
      fwd.on('error', () => {
        res.writeHead(502)
        res.end()
      })
      fwd.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    answered,
    rule: (name, match, status) => rules.set(name, { match, status }),
    clear: (name) => rules.delete(name),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
