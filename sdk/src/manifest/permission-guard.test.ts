import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../errors.ts'
import { createPermissionGuard, ManifestError, type Permissions } from './index.ts'

const declared: Permissions = {
  net: ['api.example.com', '*.slack.com:443', '10.0.0.5:9090', '[::1]:8080'],
  exec: ['systemctl', '/usr/local/bin/backup'],
  secrets: ['API_TOKEN', 'SLACK_TOKEN'],
  fs: { read: ['/var/log', '/srv/app/'], write: ['/var/lib/acme'] },
}
const guard = createPermissionGuard(declared, declared)

function denial(fn: () => unknown) {
  try {
    fn()
  } catch (error) {
    return error as { code: string; message: string; data: unknown }
  }
  throw new Error('expected a denial')
}

describe('permission guard: net', () => {
  it('allows declared hosts with their effective ports and returns what it checked', () => {
    expect(guard.net('https://api.example.com/v1?q=1')).toMatchObject({ host: 'api.example.com', port: 443 })
    expect(guard.net('http://API.EXAMPLE.COM:8080/')).toMatchObject({ host: 'api.example.com', port: 8080 })
    expect(guard.net('https://hooks.slack.com/x').port).toBe(443)
    expect(guard.net('https://a.b.slack.com/').host).toBe('a.b.slack.com')
    expect(guard.net('http://10.0.0.5:9090/metrics').host).toBe('10.0.0.5')
    expect(guard.net('http://[0:0:0:0:0:0:0:1]:8080/').host).toBe('[::1]')
    expect(guard.net('https://api.example.com./').host).toBe('api.example.com')
  })

  it('denies undeclared hosts, wrong ports and the bare wildcard domain, naming the host and port', () => {
    const evil = denial(() => guard.net('https://evil.com/'))
    expect(evil).toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      message:
        'permission denied: net host "evil.com:443" is not declared in permissions.net of the manifest; add it to stavily.permissions.net in package.json',
      data: { permission: 'net', value: 'evil.com:443', reason: 'undeclared' },
    })
    expect(denial(() => guard.net('http://hooks.slack.com/')).data).toMatchObject({
      value: 'hooks.slack.com:80',
    })
    expect(denial(() => guard.net('https://slack.com/')).data).toMatchObject({ value: 'slack.com:443' })
    expect(denial(() => guard.net('https://notslack.com/')).data).toMatchObject({ value: 'notslack.com:443' })
    expect(denial(() => guard.net('https://api.example.com.evil.com/')).code).toBe(
      ErrorCodes.PERMISSION_DENIED,
    )
    expect(denial(() => guard.net('http://10.0.0.5:9091/')).data).toMatchObject({ value: '10.0.0.5:9091' })
    // WHATWG URL parsing normalises odd IPv4 spellings before the check.
    expect(denial(() => guard.net('http://0x7f.1/')).data).toMatchObject({ value: '127.0.0.1:80' })
  })

  it('rejects non-http schemes, relative URLs and URLs with credentials as invalid arguments', () => {
    expect(denial(() => guard.net('file:///etc/passwd'))).toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
      message: 'fetch: only http and https URLs are allowed, got "file:"',
    })
    expect(denial(() => guard.net('/relative')).code).toBe(ErrorCodes.INVALID_ARGUMENT)
    expect(denial(() => guard.net('https://user:pw@api.example.com/')).message).toContain('credentials')
    expect(denial(() => guard.net(42 as never)).message).toBe(
      'fetch: url must be a non-empty string, got number',
    )
  })

  it('requires both declaration and grant', () => {
    const narrow = createPermissionGuard(declared, { ...declared, net: ['api.example.com:443'] })
    expect(narrow.net('https://api.example.com/').port).toBe(443)
    expect(denial(() => narrow.net('http://api.example.com:8080/'))).toMatchObject({
      message:
        'permission denied: net host "api.example.com:8080" is declared in permissions.net but not granted by the operator; ask the operator to grant it to this plugin',
      data: { permission: 'net', value: 'api.example.com:8080', reason: 'ungranted' },
    })
    // A grant cannot widen what the manifest declares.
    const wide = createPermissionGuard({ ...declared, net: [] }, { ...declared, net: ['evil.com'] })
    expect(denial(() => wide.net('https://evil.com/')).data).toMatchObject({ reason: 'undeclared' })
  })
})

describe('permission guard: exec and secrets', () => {
  it('matches commands and secret names exactly', () => {
    expect(guard.exec('systemctl')).toBe('systemctl')
    expect(guard.exec('/usr/local/bin/backup')).toBe('/usr/local/bin/backup')
    expect(denial(() => guard.exec('/usr/bin/systemctl')).data).toEqual({
      permission: 'exec',
      value: '/usr/bin/systemctl',
      reason: 'undeclared',
    })
    expect(denial(() => guard.exec('backup')).message).toBe(
      'permission denied: command "backup" is not declared in permissions.exec of the manifest; add it to stavily.permissions.exec in package.json',
    )
    expect(guard.secret('API_TOKEN')).toBe('API_TOKEN')
    expect(denial(() => guard.secret('api_token')).data).toEqual({
      permission: 'secrets',
      value: 'api_token',
      reason: 'undeclared',
    })
    const ungranted = createPermissionGuard(declared, { ...declared, secrets: ['API_TOKEN'] })
    expect(denial(() => ungranted.secret('SLACK_TOKEN')).data).toMatchObject({ reason: 'ungranted' })
    expect(denial(() => guard.exec('')).code).toBe(ErrorCodes.INVALID_ARGUMENT)
  })
})

describe('permission guard: fs', () => {
  it('matches by whole path segments after normalising', () => {
    expect(guard.fsRead('/var/log')).toBe('/var/log')
    expect(guard.fsRead('/var/log/app/x.log')).toBe('/var/log/app/x.log')
    expect(guard.fsRead('/srv/app/config.json')).toBe('/srv/app/config.json')
    expect(guard.fsRead('//var///log/./a')).toBe('/var/log/a')
    expect(guard.fsRead('/var/tmp/../log/a')).toBe('/var/log/a')
    expect(denial(() => guard.fsRead('/var/logs')).data).toEqual({
      permission: 'fs.read',
      value: '/var/logs',
      reason: 'undeclared',
    })
    expect(denial(() => guard.fsRead('/var/log/../../etc/passwd')).data).toEqual({
      permission: 'fs.read',
      value: '/etc/passwd',
      reason: 'undeclared',
    })
    expect(denial(() => guard.fsRead('/var/log/../../../..')).data).toMatchObject({ value: '/' })
    expect(denial(() => guard.fsRead('/srv/application')).code).toBe(ErrorCodes.PERMISSION_DENIED)
  })

  it('keeps read and write apart', () => {
    expect(guard.fsWrite('/var/lib/acme/state.json')).toBe('/var/lib/acme/state.json')
    expect(denial(() => guard.fsWrite('/var/log/x')).message).toBe(
      'permission denied: writing "/var/log/x" is not declared in permissions.fs.write of the manifest; add it to stavily.permissions.fs.write in package.json',
    )
    expect(denial(() => guard.fsRead('/var/lib/acme/state.json')).data).toMatchObject({
      permission: 'fs.read',
    })
  })

  it('rejects relative paths and NUL bytes as invalid arguments', () => {
    expect(denial(() => guard.fsRead('var/log/x'))).toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
      message:
        'fs.readText/fs.list: "var/log/x" is not an absolute path; expected a path such as "/var/log/app.log"',
    })
    expect(denial(() => guard.fsWrite('/var/lib/acme/\0x')).code).toBe(ErrorCodes.INVALID_ARGUMENT)
  })

  it('a root prefix covers everything', () => {
    const root = createPermissionGuard(
      { ...declared, fs: { read: ['/'], write: [] } },
      { ...declared, fs: { read: ['/'], write: [] } },
    )
    expect(root.fsRead('/etc/hosts')).toBe('/etc/hosts')
  })
})

describe('createPermissionGuard', () => {
  it('refuses invalid declared permissions or grants with every problem named', () => {
    const bad = () => createPermissionGuard(declared, { ...declared, net: ['http://x'], exec: ['a b'] })
    expect(bad).toThrow(ManifestError)
    try {
      bad()
    } catch (error) {
      expect((error as ManifestError).problems.map((p) => p.path)).toEqual([
        'grants.net[0]',
        'grants.exec[0]',
      ])
    }
    expect(() => createPermissionGuard({ ...declared, shell: [] } as never, declared)).toThrow(
      /permissions\.shell: unknown permission/,
    )
  })
})
