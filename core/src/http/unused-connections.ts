import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import type { FastifyInstance } from 'fastify'

// A graceful shutdown waits for every open connection to close. Fastify's
// `forceCloseConnections: 'idle'` (Node's closeIdleConnections) closes keep-alive connections
// between requests, but not a connection that has not sent a request yet: Node counts it as
// receiving its first one. HTTP clients open such connections ahead of need (fetch's
// connection pool, browsers' preconnects), and shutdown then waited for each until its idle
// timeout, about a minute. A connection that never carried a request holds no work: shutdown
// closes it (a client about to use it sees it closed, as it would the closed listener a
// moment later).
export function closeUnusedConnectionsOnShutdown(app: FastifyInstance): void {
  /** Open connections, each with whether it has carried a request. */
  const open = new Map<Socket, boolean>()
  // With TLS, requests arrive on the TLS socket, not on the TCP one `connection` reports.
  const opened = app.server instanceof TlsServer ? 'secureConnection' : 'connection'
  app.server.on(opened, (socket: Socket) => {
    open.set(socket, false)
    socket.once('close', () => open.delete(socket))
  })
  app.server.on('request', (req: IncomingMessage) => {
    if (open.has(req.socket)) open.set(req.socket, true)
  })
  // preClose runs right before the server stops listening and closes its idle connections.
  app.addHook('preClose', async () => {
    for (const [socket, used] of open) if (!used) socket.destroy()
  })
}
