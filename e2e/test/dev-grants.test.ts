import { loadConfig } from '@stavily/agent'
import { describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs script of this repository, without type declarations
import { devAgentGrants } from '../../scripts/demo/dev-grants.mjs'

// `npm run dev`'s extra grants (docs/getting-started.md): STAVILY_DEV_ACTION_GRANTS and
// STAVILY_DEV_SENSOR_GRANTS hold agent flags that add to the demo's own grants. Checked
// here through the agent's own configuration loader, with the flags dev.mjs passes.

const DEMO_ACTION = ['--allow-host', '127.0.0.1', '--allow-command', 'curl']
const base = ['--orchestrator', 'http://127.0.0.1:1', '--data-dir', '/tmp/stavily-dev-grants-unused']

describe('npm run dev: extra grants for the dev agents', () => {
  it('adds an exec grant to the action agent, keeping the demo grants', () => {
    const extra = devAgentGrants({ STAVILY_DEV_ACTION_GRANTS: ' --allow-command df  --allow-read /var/log ' })
    expect(extra).toEqual({ sensor: [], action: ['--allow-command', 'df', '--allow-read', '/var/log'] })
    const config = loadConfig([...base, ...DEMO_ACTION, ...extra.action], {})
    expect(config.grants.exec).toEqual(['curl', 'df'])
    expect(config.grants.fs.read).toEqual(['/var/log'])
    expect(config.grants.net).toEqual(['127.0.0.1'])
  })

  it('gives the sensor agent its own, and nothing when unset', () => {
    const extra = devAgentGrants({
      STAVILY_DEV_SENSOR_GRANTS: '--allow-host status.example.com --allow-private-network',
    })
    expect(extra.sensor).toEqual(['--allow-host', 'status.example.com', '--allow-private-network'])
    expect(loadConfig([...base, '--allow-host', '127.0.0.1', ...extra.sensor], {}).grants).toMatchObject({
      net: ['127.0.0.1', 'status.example.com'],
      allowPrivateNetwork: true,
    })
    expect(devAgentGrants({})).toEqual({ sensor: [], action: [] })
  })

  it('refuses what is not a grant flag, naming the variable', () => {
    expect(() => devAgentGrants({ STAVILY_DEV_ACTION_GRANTS: 'df' })).toThrow(
      'STAVILY_DEV_ACTION_GRANTS: "df" is not a grant flag',
    )
    expect(() => devAgentGrants({ STAVILY_DEV_ACTION_GRANTS: '--allow-command' })).toThrow(
      'STAVILY_DEV_ACTION_GRANTS: --allow-command needs a value',
    )
    expect(() => devAgentGrants({ STAVILY_DEV_SENSOR_GRANTS: '--pool prod' })).toThrow(
      'STAVILY_DEV_SENSOR_GRANTS',
    )
  })
})
