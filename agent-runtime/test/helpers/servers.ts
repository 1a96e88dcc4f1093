// Real HTTP servers on loopback for the fetch tests.
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface TestServer {
  port: number
  url: string
  hits: number
  close(): Promise<void>
}

export async function startServer(handler: RequestListener, host = '127.0.0.1'): Promise<TestServer> {
  const server: Server = createServer((req, res) => {
    state.hits++
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  const port = (server.address() as AddressInfo).port
  const state: TestServer = {
    port,
    url: `http://${host}:${port}`,
    hits: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  return state
}
