// An orchestrator that refuses the agent's requests with a 4xx no retry can change (here: a
// 400 on everything after enrollment, as an orchestrator of another protocol version would):
// the agent stops and says why, instead of retrying forever. A real HTTP server on loopback
// plays the orchestrator, since a real one never answers a well-formed agent this way.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { type AgentProcess, startAgent } from './helpers/agent-process.ts'

vi.setConfig({ testTimeout: 60_000 })

describe('an orchestrator that refuses the agent with a 4xx', () => {
  let server: Server
  let url: string
  const seen: string[] = []
  let a: AgentProcess | undefined

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      req.resume()
      req.on('end', () => {
        res.setHeader('content-type', 'application/json')
        if (req.url === '/agents/v1/register') {
          res.statusCode = 201
          res.end(
            JSON.stringify({
              agentId: '00000000-0000-4000-8000-000000000001',
              orgId: '00000000-0000-4000-8000-000000000002',
              kind: 'action',
              pool: 'web',
              credential: 'stv_agent_test',
            }),
          )
          return
        }
        res.statusCode = 400
        res.end(
          JSON.stringify({
            error: {
              code: 'STAVILY_ERR_VALIDATION',
              message: 'body.load: unknown field',
              field: 'body.load',
            },
          }),
        )
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })

  afterAll(async () => {
    await a?.stop('SIGKILL')
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('stops with exit code 1 and a message naming the answer and what to do', async () => {
    const dataDir = tempDir('agent-refused')
    a = startAgent(['--orchestrator', url, '--data-dir', dataDir, '--enrollment-token', 'stv_enroll_test'])
    const exit = await a.exited
    expect(exit.code, JSON.stringify(a.logs.slice(-5))).toBe(1)
    const fatal = a.logs.find((l) => l.level === 60)
    expect(fatal?.msg).toMatch(
      /the orchestrator refused this agent's (heartbeat|poll|plugin sync) \(400 STAVILY_ERR_VALIDATION\)/,
    )
    expect(fatal?.msg).toContain('body.load: unknown field')
    expect(fatal?.msg).toContain("run an agent of the orchestrator's version")
    // It gave up at the first refusal rather than retrying with backoff.
    expect(a.count((l) => /failed; retrying/.test(l.msg))).toBe(0)
    // Each agent API request was made once: none was sent again.
    const api = seen.filter((s) => s.includes(' /agents/v1/'))
    expect(new Set(api).size, api.join('\n')).toBe(api.length)
  })
})
