import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, enroll, type Running, setups } from '../helpers/harness.ts'
import { CLI_PROCESS_MS, cli, freshConfig } from './cli-process.ts'

// `stavily org …` as the instance admin's shell runs it against a real orchestrator: the
// new organization's admin token on standard output (and only it), the list with counts,
// rename, and delete refused while the organization has an agent, then forced.

const setup = setups({ postgres: false })[0]!
let r: Running
let env: Record<string, string>

beforeAll(async () => {
  await setup.prepare()
  r = await setup.start()
  env = { STAVILY_CONFIG: freshConfig(), STAVILY_URL: r.operatorUrl, STAVILY_TOKEN: r.admin }
}, 60_000)
afterAll(() => setup.cleanup())

describe('stavily org', () => {
  it(
    'creates, lists, renames and deletes an organization (forced while it has an agent)',
    async () => {
      const created = await cli(['org', 'create', 'acme'], { env })
      expect(created.code, created.stderr).toBe(0)
      const token = created.stdout.trim()
      expect(token).toMatch(/^stv_\S+$/)
      expect(created.stderr).toContain('its admin token is shown once')
      const agent = await enroll(r, 'action', 'web', { token })
      const whose = await call(r.operatorUrl, 'GET', '/api/v1/agents', { token })
      expect(whose.body.items.map((a: { id: string }) => a.id)).toEqual([agent.id])

      const listed = await cli(['org', 'list', '--json'], { env })
      expect(listed.code).toBe(0)
      expect(JSON.parse(listed.stdout).items).toContainEqual(
        expect.objectContaining({ name: 'acme', agents: 1, workflows: 0 }),
      )

      const renamed = await cli(['org', 'rename', 'acme', 'acme-corp'], { env })
      expect(renamed.code, renamed.stderr).toBe(0)
      expect(renamed.stdout).toContain('organization acme renamed to acme-corp')

      const refused = await cli(['org', 'delete', 'acme-corp'], { env })
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/agent/)
      const forced = await cli(['org', 'delete', 'acme-corp', '--force'], { env })
      expect(forced.code, forced.stderr).toBe(0)
      expect(forced.stdout).toContain('organization acme-corp deleted')
      expect((await call(r.operatorUrl, 'GET', '/api/v1/agents', { token })).status).toBe(401)
    },
    6 * CLI_PROCESS_MS,
  )
})
