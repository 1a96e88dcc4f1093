import { describe, expect, it } from 'vitest'
import { rangeLabel, registryPath, shortDigest } from './catalog.ts'
import { spellPermissions } from './permissions.ts'

describe('plugin pages', () => {
  it('spells out every declared permission and leaves out the empty ones', () => {
    expect(
      spellPermissions({
        net: ['hooks.slack.com'],
        exec: [],
        secrets: ['SLACK_TOKEN'],
        fs: { read: ['/var/log'], write: [] },
        env: ['MY_APP_*'],
      }),
    ).toEqual([
      { label: 'Connect over the network to', items: ['hooks.slack.com'] },
      { label: 'Read the secrets', items: ['SLACK_TOKEN'] },
      { label: 'Read files under', items: ['/var/log'] },
      { label: 'Pass to commands the environment variables', items: ['MY_APP_*'] },
    ])
    expect(spellPermissions({ net: [], exec: [], secrets: [], fs: { read: [], write: [] } })).toEqual([])
  })

  it('says plainly which targets the operator chooses ($granted)', () => {
    expect(
      spellPermissions({
        net: ['https://$granted:443', 'hooks.slack.com:443'],
        exec: ['$granted'],
        secrets: [],
        fs: { read: [], write: [] },
        sql: ['$granted'],
      }),
    ).toEqual([
      {
        label: 'Connect over the network to',
        items: ["any host the agent's operator grants (https only, port 443 only)", 'hooks.slack.com:443'],
      },
      { label: 'Run the commands', items: ["any command the agent's operator grants"] },
      { label: 'Query the PostgreSQL connections', items: ["any connection the agent's operator grants"] },
    ])
  })

  it('says whether a pool is pinned or follows a range', () => {
    expect(rangeLabel('1.0.0', '1.0.0')).toBe('pinned')
    expect(rangeLabel('^1', '1.1.0')).toBe('follows ^1')
    expect(rangeLabel(null, '1.1.0')).toBe('no range kept')
  })

  it('escapes scoped names in registry paths and shortens digests', () => {
    expect(registryPath('@acme/restart')).toBe('/registry/plugins/%40acme%2Frestart')
    expect(shortDigest(`sha256:${'ab'.repeat(32)}`)).toBe('sha256:abababababab…')
    expect(shortDigest('cafe')).toBe('cafe…')
  })
})
