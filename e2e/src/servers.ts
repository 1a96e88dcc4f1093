// Small loopback HTTP servers the scenarios use: a gate whose requests wait until the test
// opens it (an action "in flight" for as long as the test needs), and a tampering proxy in
// front of the registry (a compromised mirror).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

export interface Gate {
  url: string
  /** Requests received so far (path and query), in order. */
  readonly requests: string[]
  /** Resolves when `n` requests have arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>
  /** Answers the held requests with 200 and every later one at once. */
  open(): void
  /** Holds only the first `n` requests; later ones are answered at once. */
  holdFirst(n: number): void
  close(): Promise<void>
}

/** A server that holds requests open until `open()` (all of them, or the first n with holdFirst). */
export async function startGate(): Promise<Gate> {
  const requests: string[] = []
  const held: ServerResponse[] = []
  let isOpen = false
  let holdCount = Number.POSITIVE_INFINITY
  const waiters: { n: number; resolve(): void }[] = []
  const answer = (res: ServerResponse) => {
    if (!res.writableEnded) res.writeHead(200, { 'content-type': 'text/plain' }).end('done\n')
  }
  const server = createServer((req: IncomingMessage, res) => {
    requests.push(req.url ?? '/')
    for (const w of waiters.filter((w) => requests.length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
    if (isOpen || requests.length > holdCount) answer(res)
    else held.push(res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    waitForRequests(n, timeoutMs = 60_000) {
      if (requests.length >= n) return Promise.resolve()
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`gate: ${requests.length} of ${n} requests after ${timeoutMs} ms`)),
          timeoutMs,
        )
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    },
    open() {
      isOpen = true
      for (const res of held.splice(0)) answer(res)
    },
    holdFirst(n) {
      holdCount = n
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface TamperProxy {
  /** The proxy's URL for `upstreamBase`'s path (give it to an agent as --registry). */
  baseUrl: string
  /** Paths whose answers were altered. */
  readonly tampered: string[]
  close(): Promise<void>
}

/**
 * Forwards everything to `upstreamBase`'s origin, and flips one byte in every plugin
 * artifact (TUF targets) it passes on: the signed metadata stays genuine, the bundle does not.
 */
export async function startTamperProxy(upstreamBase: string): Promise<TamperProxy> {
  const up = new URL(upstreamBase)
  const tampered: string[] = []
  const server = createServer(async (req, res) => {
    const path = req.url ?? '/'
    try {
      const answer = await fetch(`${up.origin}${path}`, {
        method: req.method ?? 'GET',
        headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
      })
      let body = Buffer.from(await answer.arrayBuffer())
      if (answer.ok && path.includes('/tuf/targets/') && body.length > 0) {
        body = Buffer.from(body)
        // Inside the bundle: a changed comment character still changes the digest.
        const at = Math.floor(body.length / 2)
        body[at] = (body[at] ?? 0) ^ 0x01
        tampered.push(path)
      }
      res.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
      })
      res.end(body)
    } catch (err) {
      res.writeHead(502).end(String(err))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    baseUrl: `http://127.0.0.1:${port}${up.pathname.replace(/\/+$/, '')}`,
    tampered,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
