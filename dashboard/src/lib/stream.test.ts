import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type LiveEvent, LiveStream, type StreamState } from './stream.ts'

// The stream client against a real HTTP server on loopback speaking the stream route's
// format: the token goes in the Authorization header (never the URL), events reach every
// subscriber, a dropped stream reconnects after the server's retry and says so, a refused
// token stops it, and the last unsubscribe closes the connection.

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void

const servers: { close(): void }[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.close()
})

async function serve(handler: Handler) {
  const requests: IncomingMessage[] = []
  const closed: number[] = []
  const server = createServer((req, res) => {
    const n = requests.push(req)
    res.on('close', () => closed.push(n))
    handler(req, res, n)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  servers.push({
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/stream`
  return { url, requests, closed }
}

function open(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  res.write('retry: 20\n: connected\n\n')
}

async function until(ok: () => boolean, what: string) {
  const deadline = Date.now() + 5000
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('LiveStream', () => {
  it('sends the token in a header and hands every event to every subscriber', async () => {
    const { url, requests } = await serve((_req, res) => {
      open(res)
      res.write('event: run\ndata: {"runId":"r1","status":"running"}\n\n')
      res.write('event: step\ndata: {"runId":"r1","step":"restart","status":"succeeded"}\n\n')
    })
    const states: StreamState[] = []
    const stream = new LiveStream({ url, token: () => 'stv_secret_token', onState: (s) => states.push(s) })
    const a: LiveEvent[] = []
    const b: LiveEvent[] = []
    const stopA = stream.subscribe((e) => a.push(e))
    const stopB = stream.subscribe((e) => b.push(e))
    await until(() => a.length === 2 && b.length === 2, 'two events each')
    expect(a).toEqual([
      { type: 'run', data: { runId: 'r1', status: 'running' } },
      { type: 'step', data: { runId: 'r1', step: 'restart', status: 'succeeded' } },
    ])
    expect(requests).toHaveLength(1)
    expect(requests[0]!.headers.authorization).toBe('Bearer stv_secret_token')
    expect(requests[0]!.url).toBe('/api/v1/stream')
    expect(states).toContain('live')
    stopA()
    stopB()
  })

  it('reconnects after the server’s retry when the stream ends, and tells subscribers to re-read', async () => {
    const { url, requests } = await serve((_req, res, n) => {
      open(res)
      if (n === 1) res.end()
      else res.write(`event: run\ndata: {"runId":"after-${n}","status":"queued"}\n\n`)
    })
    const stream = new LiveStream({ url, token: () => 't' })
    const events: LiveEvent[] = []
    let reconnects = 0
    const stop = stream.subscribe(
      (e) => events.push(e),
      () => reconnects++,
    )
    await until(() => events.length === 1, 'an event after the reconnect')
    expect(requests).toHaveLength(2)
    expect(reconnects).toBe(1)
    expect(events[0]!.data.runId).toBe('after-2')
    stop()
  })

  it('stops on a refused token with the server’s message, without retrying', async () => {
    const { url, requests } = await serve((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          error: { code: 'STAVILY_ERR_UNAUTHENTICATED', message: 'authorization: unknown API token' },
        }),
      )
    })
    let refused: string | undefined
    const states: StreamState[] = []
    const stream = new LiveStream({
      url,
      token: () => 't',
      onUnauthorized: (m) => (refused = m),
      onState: (s) => states.push(s),
    })
    const stop = stream.subscribe(() => {})
    await until(() => refused !== undefined, 'the refusal')
    expect(refused).toBe('authorization: unknown API token')
    // A retry would have been scheduled in the same turn as the refusal ('retrying').
    expect(states).toEqual(['connecting', 'refused'])
    expect(requests).toHaveLength(1)
    stop()
  })

  it('closes the connection when the last subscriber leaves, and opens none without a token', async () => {
    const { url, requests, closed } = await serve((_req, res) => open(res))
    let token: string | null = null
    const stream = new LiveStream({ url, token: () => token })
    const stop = stream.subscribe(() => {})
    expect(stream.state).toBe('idle')
    token = 't'
    stream.restart()
    await until(() => stream.state === 'live', 'the stream to open')
    // One connection: the one opened once there was a token.
    expect(requests).toHaveLength(1)
    stop()
    expect(stream.state).toBe('idle')
    await until(() => closed.length === 1, 'the server to see the close')
  })
})
