import { describe, expect, it } from 'vitest'
import { ErrorCodes } from '../errors.ts'
import { ManifestError, parseManifest, validateManifest } from './index.ts'

const good = {
  name: '@acme/stavily-plugin-restart',
  version: '1.2.0',
  stavily: {
    kind: 'action',
    entry: 'src/index.ts',
    sdk: '^1.0.0',
    permissions: {
      net: ['api.example.com', '*.slack.com:443'],
      exec: ['systemctl'],
      secrets: ['SLACK_TOKEN'],
      fs: { read: ['/var/log/'], write: [] },
    },
  },
}

function withStavily(stavily: Record<string, unknown>, top: Record<string, unknown> = {}) {
  return { ...good, ...top, stavily: { ...good.stavily, ...stavily } }
}
function withPermissions(permissions: unknown, kind = 'action') {
  return withStavily({ kind, permissions })
}
function problems(pkg: unknown) {
  const result = validateManifest(pkg)
  if (result.ok) throw new Error('expected problems')
  return result.problems
}

describe('validateManifest', () => {
  it('accepts the documented example and normalises it', () => {
    const result = validateManifest(good)
    expect(result).toEqual({
      ok: true,
      manifest: {
        name: '@acme/stavily-plugin-restart',
        version: '1.2.0',
        kind: 'action',
        entry: 'src/index.ts',
        sdk: '^1.0.0',
        permissions: {
          net: ['api.example.com', '*.slack.com:443'],
          exec: ['systemctl'],
          secrets: ['SLACK_TOKEN'],
          fs: { read: ['/var/log'], write: [] },
        },
      },
    })
  })

  it('fills missing permission lists with empty ones and normalises entry and hosts', () => {
    const result = validateManifest(
      withStavily({
        entry: './src//index.ts',
        description: 'Restarts things',
        permissions: { net: ['API.Example.com.'] },
      }),
    )
    expect(result.ok && result.manifest).toMatchObject({
      entry: 'src/index.ts',
      description: 'Restarts things',
      permissions: { net: ['api.example.com'], exec: [], secrets: [], fs: { read: [], write: [] } },
    })
    const none = validateManifest(withStavily({ permissions: undefined }))
    expect(none.ok && none.manifest.permissions).toEqual({
      net: [],
      exec: [],
      secrets: [],
      fs: { read: [], write: [] },
    })
  })

  it('names the exact path and problem for each bad field', () => {
    const cases: [unknown, string, string][] = [
      [{ ...good, name: 'Bad Name' }, 'name', '"Bad Name" is not a valid npm package name'],
      [{ ...good, name: undefined }, 'name', 'required; expected an npm package name'],
      [
        { ...good, version: 'v1.2.0' },
        'version',
        '"v1.2.0" is not a valid version; expected a semantic version such as "1.2.0"',
      ],
      [{ ...good, version: 1 }, 'version', 'expected a semantic version such as "1.2.0", got number 1'],
      [
        { ...good, stavily: undefined },
        'stavily',
        'required: the plugin manifest object { kind, entry, sdk, permissions }',
      ],
      [
        { ...good, stavily: [] },
        'stavily',
        'expected an object { kind, entry, sdk, permissions }, got an array',
      ],
      [
        withStavily({ kind: 'job' }),
        'stavily.kind',
        'expected "sensor", "action" or "output", got the string "job"',
      ],
      [
        withStavily({ kind: undefined }),
        'stavily.kind',
        'expected "sensor", "action" or "output", got nothing',
      ],
      [withStavily({ entry: '../outside.ts' }), 'stavily.entry', '"../outside.ts" leaves the package ("..")'],
      [withStavily({ entry: 'src/../../x.ts' }), 'stavily.entry', 'leaves the package'],
      [
        withStavily({ entry: '/abs/index.ts' }),
        'stavily.entry',
        '"/abs/index.ts" is not a relative POSIX path',
      ],
      [withStavily({ entry: 'src\\index.ts' }), 'stavily.entry', 'is not a relative POSIX path'],
      [withStavily({ entry: 'src/' }), 'stavily.entry', '"src/" is not a file'],
      [
        withStavily({ sdk: 'latest' }),
        'stavily.sdk',
        '"latest" is not a valid semver range; expected a semver range of the SDK API such as "^1.0.0"',
      ],
      [withStavily({ description: 5 }), 'stavily.description', 'expected a string, got number 5'],
      [
        withStavily({ description: 'x'.repeat(501) }),
        'stavily.description',
        'must be at most 500 characters',
      ],
      [
        withStavily({ permisions: {} }),
        'stavily.permisions',
        'unknown key "permisions"; expected one of kind, entry, sdk, description, permissions',
      ],
      [
        withPermissions('all'),
        'stavily.permissions',
        'expected an object { net, exec, secrets, fs, env, sql, smtp }, got the string "all"',
      ],
      [
        withPermissions({ sqll: ['main'] }),
        'stavily.permissions.sqll',
        'unknown permission "sqll"; expected one of net, exec, secrets, fs, env, sql, smtp',
      ],
      [
        withPermissions({ env: ['HOME'] }),
        'stavily.permissions.env[0]',
        '"HOME" is reserved (it points the command at a configuration or data file that can run code or write files)',
      ],
      [
        withPermissions({ fs: { exec: [] } }),
        'stavily.permissions.fs.exec',
        'unknown fs permission "exec"; expected read or write',
      ],
      [
        withPermissions({ fs: ['/tmp'] }),
        'stavily.permissions.fs',
        'expected an object { read, write }, got an array',
      ],
      [
        withPermissions({ net: 'api.example.com' }),
        'stavily.permissions.net',
        'expected an array of strings, got the string "api.example.com"',
      ],
      [
        withPermissions({ net: ['http://x'] }),
        'stavily.permissions.net[0]',
        '"http://x" is a URL, expected a host pattern such as "api.example.com" or "*.example.com:443"',
      ],
      [
        withPermissions({ net: ['example.com/api'] }),
        'stavily.permissions.net[0]',
        '"example.com/api" contains a path or query',
      ],
      [
        withPermissions({ net: ['api.*.com'] }),
        'stavily.permissions.net[0]',
        'a wildcard is only allowed as the whole first label, as in "*.example.com"',
      ],
      [
        withPermissions({ net: ['*'] }),
        'stavily.permissions.net[0]',
        'a wildcard is only allowed as the whole first label',
      ],
      [
        withPermissions({ net: ['*.com'] }),
        'stavily.permissions.net[0]',
        'a wildcard must cover a domain with at least two labels',
      ],
      [
        withPermissions({ net: ['example.com:0'] }),
        'stavily.permissions.net[0]',
        'port "0" must be a number from 1 to 65535',
      ],
      [
        withPermissions({ net: ['example.com:99999'] }),
        'stavily.permissions.net[0]',
        'port "99999" must be a number from 1 to 65535',
      ],
      [
        withPermissions({ net: ['::1'] }),
        'stavily.permissions.net[0]',
        'looks like an IPv6 address; write it in brackets, e.g. "[::1]:8080"',
      ],
      [
        withPermissions({ net: ['[::g]:80'] }),
        'stavily.permissions.net[0]',
        '"[::g]:80" is not a valid IPv6 address',
      ],
      [withPermissions({ net: ['300.1.1.1'] }), 'stavily.permissions.net[0]', 'is not a valid IPv4 address'],
      [withPermissions({ net: ['bad_host.com'] }), 'stavily.permissions.net[0]', 'is not a valid host name'],
      [withPermissions({ net: ['user@example.com'] }), 'stavily.permissions.net[0]', 'contains user info'],
      [withPermissions({ net: [''] }), 'stavily.permissions.net[0]', 'must not be empty'],
      [withPermissions({ net: [42] }), 'stavily.permissions.net[0]', 'got number'],
      [
        withPermissions({ net: ['a.com', 'A.com'] }),
        'stavily.permissions.net[1]',
        'duplicate of stavily.permissions.net[0] ("a.com")',
      ],
      [withPermissions({ exec: ['rm -rf'] }), 'stavily.permissions.exec[0]', '"rm -rf" contains whitespace'],
      [
        withPermissions({ exec: ['ls;id'] }),
        'stavily.permissions.exec[0]',
        'contains the shell character ";"',
      ],
      [
        withPermissions({ exec: ['$(id)'] }),
        'stavily.permissions.exec[0]',
        'contains the shell character "$"',
      ],
      [
        withPermissions({ exec: ['bin/tool'] }),
        'stavily.permissions.exec[0]',
        '"bin/tool" is a relative path',
      ],
      [
        withPermissions({ exec: ['/usr/bin/../bin/sh'] }),
        'stavily.permissions.exec[0]',
        'is not a normalised absolute path',
      ],
      [
        withPermissions({ exec: ['-rf'] }),
        'stavily.permissions.exec[0]',
        '"-rf" is not a valid command name',
      ],
      [
        withPermissions({ secrets: ['slack_token'] }),
        'stavily.permissions.secrets[0]',
        '"slack_token" is not a valid secret name; expected an upper-case name such as "SLACK_TOKEN"',
      ],
      [
        withPermissions({ secrets: ['1TOKEN'] }),
        'stavily.permissions.secrets[0]',
        'is not a valid secret name',
      ],
      [
        withPermissions({ fs: { read: ['var/log'] } }),
        'stavily.permissions.fs.read[0]',
        '"var/log" is not absolute',
      ],
      [
        withPermissions({ fs: { write: ['/var/../etc'] } }),
        'stavily.permissions.fs.write[0]',
        'contains "." or ".." segments',
      ],
      [
        withPermissions({ exec: ['ls'] }, 'output'),
        'stavily.permissions.exec',
        'an output cannot run commands',
      ],
      [
        withPermissions({ fs: { write: ['/tmp'] } }, 'sensor'),
        'stavily.permissions.fs.write',
        'a sensor cannot write files',
      ],
      ['not an object', 'package.json', 'expected an object, got the string "not an object"'],
    ]
    for (const [pkg, path, message] of cases) {
      const found = problems(pkg)
      expect(found, `${path}: ${message}`).toContainEqual({ path, message: expect.stringContaining(message) })
    }
  })

  it('lets a sensor declare exec (named or "$granted"): which commands it runs is the operator\'s grant', () => {
    expect(validateManifest(withPermissions({ exec: ['git', '$granted'] }, 'sensor'))).toMatchObject({
      ok: true,
    })
  })

  it('returns every problem at once, in field order', () => {
    const found = problems({
      name: 'UPPER',
      version: 'one',
      stavily: {
        kind: 'robot',
        entry: '../x.ts',
        sdk: 'nope',
        extra: true,
        permissions: {
          net: ['ok.example.com', 'http://x', 'a/b'],
          exec: ['rm -rf'],
          secrets: ['lower'],
          shell: true,
        },
      },
    })
    expect(found.map((p) => p.path)).toEqual([
      'name',
      'version',
      'stavily.extra',
      'stavily.kind',
      'stavily.entry',
      'stavily.sdk',
      'stavily.permissions.shell',
      'stavily.permissions.net[1]',
      'stavily.permissions.net[2]',
      'stavily.permissions.exec[0]',
      'stavily.permissions.secrets[0]',
    ])
  })

  it('accepts the host pattern forms the grammar allows', () => {
    const net = [
      'api.example.com',
      'example.com:8443',
      '*.example.com',
      '*.example.com:443',
      '10.0.0.1',
      '10.0.0.1:9090',
      '[::1]',
      '[2001:DB8::1]:8080',
      'localhost',
    ]
    const result = validateManifest(withPermissions({ net }))
    expect(result.ok && result.manifest.permissions.net).toEqual([
      'api.example.com',
      'example.com:8443',
      '*.example.com',
      '*.example.com:443',
      '10.0.0.1',
      '10.0.0.1:9090',
      '[::1]',
      '[2001:db8::1]:8080',
      'localhost',
    ])
  })
})

describe('parseManifest', () => {
  it('throws a ManifestError with code MANIFEST_INVALID listing every problem', () => {
    let error: unknown
    try {
      parseManifest(withStavily({ kind: 'robot', sdk: 'nope' }))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ManifestError)
    const manifestError = error as ManifestError
    expect(manifestError.code).toBe(ErrorCodes.MANIFEST_INVALID)
    expect(manifestError.problems.map((p) => p.path)).toEqual(['stavily.kind', 'stavily.sdk'])
    expect(manifestError.message).toBe(
      'invalid plugin manifest (2 problems):\n' +
        '  - stavily.kind: expected "sensor", "action" or "output", got the string "robot"\n' +
        '  - stavily.sdk: "nope" is not a valid semver range; expected a semver range of the SDK API such as "^1.0.0"',
    )
    expect(manifestError.data).toEqual({ problems: manifestError.problems })
  })

  it('returns the manifest when valid', () => {
    expect(parseManifest(good).kind).toBe('action')
  })
})
