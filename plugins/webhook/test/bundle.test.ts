// Builds this plugin as the registry does and runs it in the agent's real sandbox against a
// loopback receiver (see ../../bundle-check.ts).
import { describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox, loopbackServer } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('webhook bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'output')

  it('posts a Slack message from the agent sandbox', async () => {
    const server = await loopbackServer((_req, res) => res.writeHead(200).end('ok'))
    try {
      const result = await inSandbox(
        import.meta.url,
        pkg,
        { net: [`127.0.0.1:${server.port}`] },
        (sandbox, name) =>
          sandbox.invoke(name, {
            ...callIds(),
            config: { url: `${server.url}/services/T/B/X`, format: 'slack' },
            input: { text: 'hello <world>' },
          }),
      )
      expect(result.output).toEqual({ status: 200, format: 'slack' })
      expect(server.requests).toHaveLength(1)
      expect(server.requests[0]).toMatchObject({ method: 'POST', url: '/services/T/B/X' })
      // Slack's escaping of <, > and & survived the trip out of the isolate.
      expect(server.requests[0]!.body).toContain('hello &lt;world&gt;')
    } finally {
      await server.close()
    }
  })
  it('posts a Teams card and a Mattermost message from the agent sandbox', async () => {
    const server = await loopbackServer((_req, res) => res.writeHead(200).end('1'))
    try {
      for (const format of ['teams', 'mattermost']) {
        const result = await inSandbox(
          import.meta.url,
          pkg,
          { net: [`127.0.0.1:${server.port}`] },
          (sandbox, name) =>
            sandbox.invoke(name, {
              ...callIds(),
              config: { url: `${server.url}/hook/${format}`, format },
              input: { title: 'web', text: 'restarted', status: 'succeeded' },
            }),
        )
        expect(result.output).toEqual({ status: 200, format })
      }
      const [teams, mattermost] = server.requests.map((r) => JSON.parse(r.body))
      expect(teams.attachments[0].content.body[0]).toMatchObject({ text: 'web', color: 'Good' })
      expect(mattermost).toMatchObject({ text: '#### web\nrestarted', attachments: [{ color: '#2eb67d' }] })
    } finally {
      await server.close()
    }
  })
})
