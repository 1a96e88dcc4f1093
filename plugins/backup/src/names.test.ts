import { describe, expect, it } from 'vitest'
import { backupFileName, backupsOf, isBackupOf } from './names.ts'

describe('backup names', () => {
  it('stamps in UTC with fixed width, so name order is time order', () => {
    expect(backupFileName('shop', 'postgres', new Date('2026-12-07T09:05:03.007Z'))).toBe(
      'shop-20261207T090503007Z.dump',
    )
    expect(backupFileName('site', 'folder', new Date('2026-12-07T09:05:03.007Z'))).toBe(
      'site-20261207T090503007Z.tar.gz',
    )
  })

  it('recognises only its own backups: not another name, a sidecar, a partial file or a prefix look-alike', () => {
    expect(isBackupOf('shop-20261207T090503007Z.dump', 'shop', 'postgres')).toBe(true)
    for (const f of [
      'shop-20261207T090503007Z.dump.sha256',
      '.shop-20261207T090503007Z.dump.abc.partial',
      'shop-eu-20261207T090503007Z.dump',
      'shop-20261207T090503007Z.tar.gz',
      'shop-latest.dump',
    ]) {
      expect(isBackupOf(f, 'shop', 'postgres'), f).toBe(false)
    }
    expect(
      backupsOf(['shop-20261207T090503007Z.dump', 'x', 'shop-20251207T090503007Z.dump'], 'shop', 'postgres'),
    ).toEqual(['shop-20251207T090503007Z.dump', 'shop-20261207T090503007Z.dump'])
  })
})
