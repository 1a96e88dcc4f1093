import { describe, expect, it } from 'vitest'
import { permissionLines } from './permission-lines.ts'

describe('permissionLines', () => {
  it('spells out targets the operator chooses and leaves out what is not declared', () => {
    expect(
      permissionLines({
        net: ['https://$granted', 'hooks.slack.com:443'],
        exec: [],
        secrets: ['WEBHOOK_URL'],
        fs: { read: ['$granted'], write: [] },
        sql: ['$granted'],
      }),
    ).toEqual([
      ['net', 'hosts the operator grants (https only), hooks.slack.com:443'],
      ['secrets', 'WEBHOOK_URL'],
      ['fs read', 'paths the operator grants'],
      ['sql', 'PostgreSQL connections the operator grants'],
    ])
    expect(permissionLines({ net: [], exec: [], secrets: [], fs: { read: [], write: [] } })).toEqual([])
  })
})
