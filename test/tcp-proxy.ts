import { connect, createServer, type NetConnectOpts, type Server, type Socket } from 'node:net'

// A loopback address that stays the same while what answers behind it stops and starts
// (a private Redis, an orchestrator killed with -9 and restarted). The proxy binds port 0
// once and keeps it for the whole test, so no other process can take the port between a
// stop and a start: the race of picking a free port, closing it and hoping to bind it again.
// While the target is down (or unset) connections are accepted and closed at once, which
// clients see as the service being unreachable.

export interface TcpProxy {
  port: number
  /** Where new connections go; undefined refuses them. */
  target: NetConnectOpts | undefined
  /** Ends every proxied connection now (the service behind went away). */
  dropAll(): void
  close(): Promise<void>
}

export async function startProxy(target?: NetConnectOpts): Promise<TcpProxy> {
  const open = new Set<Socket>()
  const server: Server = createServer((client) => {
    const to = proxy.target
    if (!to) return void client.destroy()
    const upstream = connect(to)
    for (const s of [client, upstream]) {
      open.add(s)
      s.on('close', () => open.delete(s))
      s.on('error', () => {})
    }
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const proxy: TcpProxy = {
    port: (server.address() as { port: number }).port,
    target,
    dropAll() {
      for (const s of open) s.destroy()
    },
    close() {
      proxy.dropAll()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return proxy
}
