import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../errors.ts'
import {
  createPermissionGuard,
  describePermissionEntry,
  ManifestError,
  type Permissions,
  validateManifest,
} from './index.ts'

const none: Permissions = { net: [], exec: [], secrets: [], fs: { read: [], write: [] } }

function denial(fn: () => unknown) {
  try {
    fn()
  } catch (error) {
    return error as { code: string; message: string; data: unknown }
  }
  throw new Error('expected a denial')
}

function manifest(kind: string, permissions: unknown) {
  return { name: 'p', version: '1.0.0', stavily: { kind, entry: 'src/index.ts', sdk: '^1.0.0', permissions } }
}

describe('operator-chosen targets ("$granted") in a manifest', () => {
  it('accepts $granted for net (with scheme and port forms), exec, fs, sql and smtp, normalised', () => {
    const result = validateManifest(
      manifest('action', {
        net: ['$granted', 'HTTPS://$granted:443', 'http://$granted', '$granted:9090', 'hooks.slack.com:443'],
        exec: ['$granted'],
        fs: { read: ['$granted', '/var/log'], write: ['$granted'] },
        sql: ['$granted', 'main'],
        smtp: ['$granted'],
      }),
    )
    expect(result.ok && result.manifest.permissions).toEqual({
      net: ['$granted', 'https://$granted:443', 'http://$granted', '$granted:9090', 'hooks.slack.com:443'],
      exec: ['$granted'],
      secrets: [],
      fs: { read: ['$granted', '/var/log'], write: ['$granted'] },
      sql: ['$granted', 'main'],
      smtp: ['$granted'],
    })
  })

  it('refuses malformed forms, $granted secrets, and smtp for sensors, naming each field', () => {
    const result = validateManifest(
      manifest('sensor', {
        net: ['ftp://$granted', '$granted:0', '*.$granted'],
        fs: { read: ['/var/$granted'] },
        secrets: ['$granted'],
        sql: ['Main DB'],
        smtp: ['$granted'],
      }),
    )
    expect(result.ok).toBe(false)
    const problems = result.ok ? [] : result.problems
    expect(problems.map((p) => p.path)).toEqual([
      'stavily.permissions.net[0]',
      'stavily.permissions.net[1]',
      'stavily.permissions.net[2]',
      'stavily.permissions.secrets[0]',
      'stavily.permissions.sql[0]',
      'stavily.permissions.fs.read[0]',
      'stavily.permissions.smtp',
    ])
    expect(problems[0]?.message).toContain('expected "$granted", "$granted:443", "https://$granted"')
    expect(problems[3]?.message).toContain('secrets cannot be left to the operator')
    expect(problems[5]?.message).toContain('write "$granted" alone')
    expect(problems[6]?.message).toContain('a sensor cannot send mail')
  })

  it('refuses $granted in a grant: a grant names its targets', () => {
    expect(() =>
      createPermissionGuard({ ...none, net: ['$granted'] }, { ...none, net: ['$granted'] }),
    ).toThrow(ManifestError)
    const error = denial(() => createPermissionGuard(none, { ...none, exec: ['$granted'] })) as ManifestError
    expect(error.problems[0]).toEqual({
      path: 'grants.exec[0]',
      message: '"$granted" is for manifests (the operator\'s choice); a grant names the targets themselves',
    })
  })
})

describe('permission guard with $granted', () => {
  it('net: gets exactly the grant, within the scheme and port the manifest allows', () => {
    const guard = createPermissionGuard(
      { ...none, net: ['https://$granted:443'] },
      { ...none, net: ['status.example.com', '10.0.0.5'] },
    )
    expect(guard.net('https://status.example.com/health')).toMatchObject({ host: 'status.example.com' })
    expect(guard.net('https://10.0.0.5/')).toMatchObject({ port: 443 })
    const ungranted = denial(() => guard.net('https://other.example.com/'))
    expect(ungranted).toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'net', value: 'other.example.com:443', reason: 'ungranted' },
    })
    expect(ungranted.message).toBe(
      'permission denied: net host "other.example.com:443" is not granted: the manifest leaves permissions.net to the operator ("$granted") and the agent grants this plugin no such target; the operator grants it (grants.net or --allow-host)',
    )
    // Granted, but over http or on another port: outside what the manifest leaves open.
    const http = denial(() => guard.net('http://status.example.com/'))
    expect(http.data).toMatchObject({ value: 'status.example.com:80', reason: 'undeclared' })
    expect(http.message).toContain(
      'outside what permissions.net leaves to the operator ("https://$granted:443")',
    )
    expect(denial(() => guard.net('https://status.example.com:8443/')).data).toMatchObject({
      reason: 'undeclared',
    })
  })

  it('net: a plain $granted admits any granted host and port; named hosts keep their old message', () => {
    const guard = createPermissionGuard(
      { ...none, net: ['$granted', 'hooks.slack.com:443'] },
      { ...none, net: ['127.0.0.1:9090'] },
    )
    expect(guard.net('http://127.0.0.1:9090/api/v1/query').port).toBe(9090)
    expect(denial(() => guard.net('http://127.0.0.1:9091/')).data).toMatchObject({ reason: 'ungranted' })
    expect(denial(() => guard.net('https://hooks.slack.com/x')).message).toContain(
      'is declared in permissions.net but not granted by the operator',
    )
  })

  it('exec, fs.read, fs.write: the grant decides', () => {
    const guard = createPermissionGuard(
      { ...none, exec: ['$granted'], fs: { read: ['$granted'], write: ['$granted'] } },
      { ...none, exec: ['systemctl'], fs: { read: ['/var/log'], write: ['/tmp/out'] } },
    )
    expect(guard.exec('systemctl')).toBe('systemctl')
    expect(denial(() => guard.exec('rm')).data).toEqual({
      permission: 'exec',
      value: 'rm',
      reason: 'ungranted',
    })
    expect(guard.fsRead('/var/log/syslog')).toBe('/var/log/syslog')
    expect(denial(() => guard.fsRead('/etc/passwd')).data).toMatchObject({ reason: 'ungranted' })
    expect(guard.fsWrite('/tmp/out/x')).toBe('/tmp/out/x')
    expect(denial(() => guard.fsWrite('/var/log/x')).data).toMatchObject({ reason: 'ungranted' })
  })

  it('sql and smtp: names declared or left to the operator, and granted', () => {
    const guard = createPermissionGuard(
      { ...none, sql: ['$granted'], smtp: ['mail'] },
      { ...none, sql: ['main'], smtp: ['relay'] },
    )
    expect(guard.sql('main')).toBe('main')
    expect(denial(() => guard.sql('other')).message).toContain('PostgreSQL connection "other" is not granted')
    expect(denial(() => guard.smtp('relay')).data).toEqual({
      permission: 'smtp',
      value: 'relay',
      reason: 'undeclared',
    })
    expect(denial(() => guard.smtp('mail')).data).toEqual({
      permission: 'smtp',
      value: 'mail',
      reason: 'ungranted',
    })
    expect(denial(() => guard.sql('Main DB'))).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT })
    const nothing = createPermissionGuard(none, { ...none, sql: ['main'] })
    expect(denial(() => nothing.sql('main')).message).toBe(
      'permission denied: PostgreSQL connection "main" is not declared in permissions.sql of the manifest; add it to stavily.permissions.sql in package.json',
    )
  })

  it('reads plainly', () => {
    expect(describePermissionEntry('net', 'https://$granted:443')).toBe(
      'hosts the operator grants (https only, port 443 only)',
    )
    expect(describePermissionEntry('net', '$granted')).toBe('hosts the operator grants')
    expect(describePermissionEntry('exec', '$granted')).toBe('commands the operator grants')
    expect(describePermissionEntry('sql', '$granted')).toBe('PostgreSQL connections the operator grants')
    expect(describePermissionEntry('net', 'api.example.com')).toBe('api.example.com')
  })
})
