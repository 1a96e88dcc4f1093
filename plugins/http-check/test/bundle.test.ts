// Builds this plugin as the registry does and runs it in the agent's real sandbox against a
// loopback server (see ../../bundle-check.ts).
import { describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox, loopbackServer } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('http-check bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'sensor')

  it('reports a failing endpoint as down from the agent sandbox', async () => {
    const server = await loopbackServer((_req, res) => res.writeHead(503).end('busy'))
    try {
      const result = await inSandbox(
        import.meta.url,
        pkg,
        { net: [`127.0.0.1:${server.port}`] },
        (sandbox, name) => sandbox.invoke(name, { ...callIds(), config: { url: `${server.url}/health` } }),
      )
      expect(result.events.map((event) => event.type)).toEqual(['http-check.down'])
      expect(server.requests.map((req) => req.url)).toEqual(['/health'])
    } finally {
      await server.close()
    }
  })
})
