// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts). systemd cannot be driven from a test, so the restart runs through
// the plugin's configured-command path with `curl` (a declared command) against a loopback
// server standing in for a service manager: real processes, started by the agent's exec.
import { describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox, loopbackServer } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('restart-service bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'action')

  it('restarts and verifies a unit with granted commands from the agent sandbox', async () => {
    const running = new Set<string>()
    const server = await loopbackServer((req, res) => {
      const [, verb, unit = ''] = (req.url ?? '').split('/')
      if (verb === 'restart') running.add(unit)
      res.writeHead(verb === 'restart' || running.has(unit) ? 200 : 503).end()
    })
    try {
      const config = {
        command: ['curl', '-fsS', '-X', 'POST', `${server.url}/restart/{unit}`],
        verifyCommand: ['curl', '-fsS', `${server.url}/status/{unit}`],
      }
      const result = await inSandbox(import.meta.url, pkg, { exec: ['curl'] }, async (sandbox, name) => {
        const restarted = await sandbox.invoke(name, {
          ...callIds(),
          config,
          input: { unit: 'nginx.service' },
        })
        // curl is declared, systemctl too, but only curl is granted here.
        await expect(
          sandbox.invoke(name, { ...callIds(), config: {}, input: { unit: 'nginx.service' } }),
        ).rejects.toMatchObject({ code: 'STAVILY_ERR_PERMISSION_DENIED' })
        return restarted
      })
      expect(result.output).toMatchObject({ unit: 'nginx.service', restarted: true, active: true })
      expect(server.requests.map((req) => `${req.method} ${req.url}`)).toEqual([
        'POST /restart/nginx.service',
        'GET /status/nginx.service',
      ])
    } finally {
      await server.close()
    }
  })
})
