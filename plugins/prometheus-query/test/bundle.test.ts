// Builds this plugin as the registry does and runs it in the agent's real sandbox against a
// loopback server answering as Prometheus does (see ../../bundle-check.ts).
import { describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox, loopbackServer } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('prometheus-query bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'sensor')

  it('emits a threshold event from the agent sandbox', async () => {
    const server = await loopbackServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: { job: 'x' }, value: [1, '0'] }] },
        }),
      ),
    )
    try {
      const result = await inSandbox(
        import.meta.url,
        pkg,
        { net: [`127.0.0.1:${server.port}`] },
        (sandbox, name) =>
          sandbox.invoke(name, {
            ...callIds(),
            config: { url: server.url, query: 'up', operator: '==', threshold: 0 },
          }),
      )
      expect(result.events.map((event) => event.type)).toEqual(['prometheus.threshold'])
      expect(server.requests.map((req) => new URL(req.url, server.url).searchParams.get('query'))).toEqual([
        'up',
      ])
    } finally {
      await server.close()
    }
  })
})
