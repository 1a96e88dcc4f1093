import { describe, expect, it } from 'vitest'
import { isRegistryError } from '../errors.ts'
import { checkCredentials, credentialEnv, credentialFor, redactSecrets } from './credentials.ts'
import { parseRemoteUrl, redactUrl } from './remote-url.ts'

const refuse = (fn: () => unknown): Error => {
  try {
    fn()
  } catch (err) {
    if (isRegistryError(err, 'STAVILY_ERR_REGISTRY_INVALID_ARGUMENT')) return err
    throw err
  }
  throw new Error('expected a refusal')
}

describe('parseRemoteUrl', () => {
  it('accepts every supported transport and scp-like remotes', () => {
    expect(parseRemoteUrl('repo', 'https://git.example.com:8443/a/b.git')).toMatchObject({
      scheme: 'https',
      host: 'git.example.com:8443',
    })
    expect(parseRemoteUrl('repo', 'ssh://git@git.example.com/a/b.git')).toMatchObject({ scheme: 'ssh' })
    expect(parseRemoteUrl('repo', 'git://127.0.0.1:9418/x.git')).toMatchObject({
      scheme: 'git',
      host: '127.0.0.1:9418',
    })
    expect(parseRemoteUrl('repo', 'file:///srv/git/x.git')).toMatchObject({ scheme: 'file', host: '' })
    expect(parseRemoteUrl('repo', 'git@github.com:acme/x.git')).toMatchObject({
      scheme: 'ssh',
      host: 'github.com',
    })
  })

  it('refuses other transports, option-like values and passwords, naming the field', () => {
    expect(refuse(() => parseRemoteUrl('repo', 'ext::sh -c evil')).message).toMatch(/^repo: /)
    expect(refuse(() => parseRemoteUrl('repo', 'ftp://x/y')).message).toMatch(/unsupported scheme "ftp:"/)
    expect(refuse(() => parseRemoteUrl('repo', '--upload-pack=evil')).message).toMatch(
      /must not start with "-"/,
    )
    const pw = refuse(() => parseRemoteUrl('repo', 'https://u:p4ss@h/x.git'))
    expect(pw.message).not.toContain('p4ss')
    expect(refuse(() => parseRemoteUrl('repo', 42)).message).toMatch(/^repo: expected a Git URL/)
  })

  it('redacts passwords in URLs', () => {
    expect(redactUrl('fatal: https://u:secret@h/x.git failed')).toBe('fatal: https://u:***@h/x.git failed')
  })
})

describe('credentials', () => {
  it('validates the configuration, naming the entry', () => {
    expect(
      refuse(() => checkCredentials('credentials', [{ host: 'h', password: 'p', token: 't' }])).message,
    ).toBe('credentials[0].token: give either password or token, not both')
    expect(refuse(() => checkCredentials('credentials', [{ host: 'bad host', token: 't' }])).message).toMatch(
      /^credentials\[0\]\.host: /,
    )
  })

  it('turns a credential into a host-scoped header in the environment, never into argv', () => {
    const [cred] = checkCredentials('credentials', [{ host: 'git.example.com', token: 'tok' }])
    const remote = parseRemoteUrl('repo', 'https://git.example.com/a.git')
    expect(credentialFor(remote, [cred!])).toBe(cred)
    const { env, secrets } = credentialEnv(remote, cred)
    expect(env.GIT_CONFIG_KEY_0).toBe('http.https://git.example.com/.extraHeader')
    expect(env.GIT_CONFIG_VALUE_0).toBe(
      `Authorization: Basic ${Buffer.from('x-access-token:tok').toString('base64')}`,
    )
    expect(redactSecrets(`header ${env.GIT_CONFIG_VALUE_0} tok`, secrets)).toBe(
      'header Authorization: Basic *** ***',
    )
    const other = parseRemoteUrl('repo', 'https://elsewhere.example.com/a.git')
    expect(credentialFor(other, [cred!])).toBeUndefined()
  })
})
