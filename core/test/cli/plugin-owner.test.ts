import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PluginRepo } from '../api/plugin-repo.ts'
import { type Running, setups } from '../helpers/harness.ts'
import { cli, freshConfig } from './cli-process.ts'

// `stavily plugin transfer` and `stavily plugin credential …` as a separate process against
// a real orchestrator: a credential's secret goes in on standard input and never comes out.

const setup = setups({ postgres: false })[0]!
let r: Running
let env: Record<string, string>
const repo = new PluginRepo('@acme/handed-on')

beforeAll(async () => {
  await setup.prepare()
  r = await setup.start({ registry: { remotes: { allowFile: true } } }) // publishes from file://
  env = { STAVILY_CONFIG: freshConfig() }
  expect((await cli(['login', '--url', r.operatorUrl, '--token', r.admin], { env })).code).toBe(0)
})
afterAll(async () => {
  await setup.cleanup()
  repo.remove()
})

describe('stavily plugin transfer and credential', () => {
  it('sets, lists and removes a Git credential without printing its secret', async () => {
    const set = await cli(['plugin', 'credential', 'set', 'git.example.com', '--username', 'ci'], {
      env,
      input: 'tok-0123456789\n',
    })
    expect(set.code, set.stderr).toBe(0)
    expect(set.stdout).toBe('Git credential for git.example.com created\n')
    const list = await cli(['plugin', 'credential', 'list'], { env })
    expect(list.stdout).toMatch(/git\.example\.com +ci +token/)
    expect(list.stdout + list.stderr).not.toContain('tok-0123456789')
    const gone = await cli(['plugin', 'credential', 'remove', 'git.example.com'], { env })
    expect(gone.stdout).toBe('Git credential for git.example.com removed\n')
  })

  it('transfers a name to another organization', async () => {
    await r.o.services.tenancy.createOrganization('receiving-team')
    const pub = await cli(['plugin', 'publish', '--repo', repo.url, '--ref', repo.release('1.0.0')], { env })
    expect(pub.code, pub.stderr).toBe(0)
    const moved = await cli(['plugin', 'transfer', '@acme/handed-on', '--to', 'receiving-team'], { env })
    expect(moved.code, moved.stderr).toBe(0)
    expect(moved.stdout).toMatch(/^@acme\/handed-on now belongs to receiving-team \(/)
    const again = await cli(['plugin', 'transfer', '@acme/handed-on', '--to', 'receiving-team'], { env })
    expect(again.code).not.toBe(0)
    expect(again.stderr).toMatch(/only its owner can transfer it/)
  })
})
