import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, setups } from './helpers/harness.ts'

// A graceful shutdown does not wait for connections that never sent a request: HTTP clients
// open them ahead of need (fetch's pool, browsers' preconnects), and Node's own idle-connection
// close skips them, so close() waited about a minute for each one's idle timeout.

/** A TCP connection to `url` that sends nothing; `closed` resolves when the server closes it. */
async function silentConnection(url: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const { hostname, port } = new URL(url)
  const socket = connect(Number(port), hostname)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => {})
  return { socket, closed }
}

for (const setup of setups()) {
  describe(`shutdown and open connections on ${setup.name}`, () => {
    beforeAll(() => setup.prepare())
    afterAll(() => setup.cleanup())

    it('closes connections that never sent a request at once', async () => {
      const r = await setup.start({ operatorListen: { host: '127.0.0.1', port: 0 } })
      const silentAgent = await silentConnection(r.url)
      const silentOperator = await silentConnection(r.operatorUrl)
      // A used keep-alive connection as well: Node closes that one itself.
      expect((await call(r.url, 'GET', '/healthz')).status).toBe(200)
      let received = 0
      silentAgent.socket.on('data', (d) => {
        received += d.length
      })
      // Within the test's timeout only if close() does not wait for the silent connections'
      // idle timeout (a minute).
      await r.close()
      await silentAgent.closed
      await silentOperator.closed
      expect(received).toBe(0)
    })
  })
}
