// Configuration: flags over environment over file, YAML and JSON files, and errors that
// name the setting and where it came from.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { AGENT_VERSION } from '../../src/agent/agent.ts'
import { loadConfig, VersionRequested } from '../../src/agent/config.ts'

const dir = tempDir('agent-config')
function file(name: string, text: string): string {
  const f = join(dir, name)
  writeFileSync(f, text)
  return f
}

describe('agent configuration', () => {
  it('takes flags over environment over the file, and defaults the registry to the orchestrator', () => {
    const cfg = file(
      'agent.yaml',
      `orchestratorUrl: http://from-file:8080
name: file-name
pool: file-pool
labels: { zone: a }
grants:
  net: [api.example.com]
  exec: [systemctl]
  fs: { read: [/var/log] }
plugins:
  "@acme/x":
    grants: { secrets: [TOKEN] }
    limits: { wallMs: 60000 }
limits: { memoryMb: 32 }
`,
    )
    const c = loadConfig(['--config', cfg, '--name', 'flag-name', '--allow-host', 'flag.example.com'], {
      STAVILY_NAME: 'env-name',
      STAVILY_POOL: 'env-pool',
      STAVILY_LABELS: 'zone=b,role=web',
    })
    expect(c.orchestratorUrl).toBe('http://from-file:8080')
    expect(c.registryUrl).toBe('http://from-file:8080/api/v1/registry')
    expect(c.name).toBe('flag-name')
    expect(c.pool).toBe('env-pool')
    expect(c.labels).toEqual({ zone: 'b', role: 'web' })
    expect(c.grants.net).toEqual(['flag.example.com'])
    expect(c.grants.exec).toEqual(['systemctl'])
    expect(c.grants.fs.read).toEqual(['/var/log'])
    expect(c.plugins['@acme/x']).toMatchObject({ grants: { secrets: ['TOKEN'] }, limits: { wallMs: 60000 } })
    expect(c.limits).toEqual({ memoryMb: 32 })
    expect(c.concurrency).toBe(4)
    expect(c.logLevel).toBe('info')
  })

  it('reads JSON files and environment lists', () => {
    const cfg = file(
      'agent.json',
      JSON.stringify({ orchestratorUrl: 'https://o.example.com/', concurrency: 2 }),
    )
    const c = loadConfig([], {
      STAVILY_AGENT_CONFIG: cfg,
      STAVILY_ALLOW_COMMANDS: 'a, b',
      STAVILY_ALLOW_PRIVATE_NETWORK: '1',
    })
    expect(c.orchestratorUrl).toBe('https://o.example.com')
    expect(c.concurrency).toBe(2)
    expect(c.grants.exec).toEqual(['a', 'b'])
    expect(c.grants.allowPrivateNetwork).toBe(true)
  })

  it.each([
    [[], {}, /orchestratorUrl: required/],
    [['--orchestrator', 'ftp://x'], {}, /--orchestrator: must be an absolute http\(s\) URL, got "ftp:\/\/x"/],
    [
      ['--orchestrator', 'http://o', '--kind', 'robot'],
      {},
      /--kind: expected "sensor" or "action", got "robot"/,
    ],
    [['--orchestrator', 'http://o'], { STAVILY_LOG_LEVEL: 'loud' }, /STAVILY_LOG_LEVEL: expected one of/],
    [['--orchestrator', 'http://o', '--label', 'novalue'], {}, /--label: expected KEY=VALUE, got "novalue"/],
    [['--orchestrator', 'http://o', '--plugin-sync-ms', '120000'], {}, /--plugin-sync-ms: at most 60000/],
    [['--orchestrator', 'http://o', '--bogus'], {}, /flags: Unknown option '--bogus'/],
  ] as const)('refuses %j %j', (argv, env, message) => {
    expect(() => loadConfig([...argv], env)).toThrow(message)
  })

  it('names the file and the setting for bad file values', () => {
    const bad = file('bad.yaml', 'orchestratorUrl: http://o\ngrants:\n  net: api.example.com\n')
    expect(() => loadConfig(['--config', bad], {})).toThrow(`${bad}: grants.net: expected a list of strings`)
    const unknown = file('unknown.yaml', 'orchestratorUrl: http://o\nconcurency: 3\n')
    expect(() => loadConfig(['--config', unknown], {})).toThrow(`${unknown}: concurency: unknown setting`)
    const limits = file('limits.yaml', 'orchestratorUrl: http://o\nlimits: { memoryMb: -1 }\n')
    expect(() => loadConfig(['--config', limits], {})).toThrow(
      `${limits}: limits.memoryMb: expected a positive integer, got -1`,
    )
  })

  it('grants command environment names by flag, variable or file, and refuses a hook where it is named', () => {
    const o = ['--orchestrator', 'http://o']
    expect(loadConfig([...o, '--allow-env', 'CI', '--allow-env', 'MY_*'], {}).grants.env).toEqual([
      'CI',
      'MY_*',
    ])
    expect(loadConfig(o, { STAVILY_ALLOW_ENV: 'CI, TZ' }).grants.env).toEqual(['CI', 'TZ'])
    const f = file('env.yaml', 'orchestratorUrl: http://o\nplugins:\n  run:\n    grants: { env: [LANG] }\n')
    expect(loadConfig(['--config', f], {}).plugins.run?.grants.env).toEqual(['LANG'])
    expect(() => loadConfig([...o, '--allow-env', 'LD_PRELOAD'], {})).toThrow(
      /--allow-env\[0\]: "LD_PRELOAD" is reserved \(a dynamic loader hook/,
    )
    expect(() => loadConfig(o, { STAVILY_ALLOW_ENV: 'CI,GIT_*' })).toThrow(
      /STAVILY_ALLOW_ENV\[1\]: "GIT_\*" matches only reserved names/,
    )
    const bad = file('bad-env.yaml', 'orchestratorUrl: http://o\ngrants: { env: [CI, BASH_ENV] }\n')
    expect(() => loadConfig(['--config', bad], {})).toThrow(`${bad}: grants.env[1]: "BASH_ENV" is reserved`)
  })

  it('reads the health listener, the plugin allow list and the rotation timing, naming bad values', () => {
    const base = ['--orchestrator', 'http://o:8080']
    const off = loadConfig(base, {})
    expect(off.healthListen).toBeUndefined()
    expect(off.allowPlugins).toEqual([])
    expect(off.credentialLifetimeMs).toBe(30 * 24 * 3600_000)
    expect(off.credentialRotateMarginMs).toBe(24 * 3600_000)

    const c = loadConfig([...base, '--health-listen', ':9464', '--allow-plugin', '@acme/*@^1'], {
      STAVILY_ALLOW_PLUGINS: '@ignored/*',
      STAVILY_CREDENTIAL_LIFETIME_MS: '60000',
    })
    expect(c.healthListen).toEqual({ host: '127.0.0.1', port: 9464 })
    expect(c.allowPlugins.map((r) => r.text)).toEqual(['@acme/*@^1'])
    // Without a margin of its own, half of a short lifetime.
    expect(c.credentialRotateMarginMs).toBe(30_000)
    expect(loadConfig([...base, '--health-listen', '[::1]:0'], {}).healthListen).toEqual({
      host: '::1',
      port: 0,
    })

    const yaml = file(
      'policy.yaml',
      'orchestratorUrl: http://o:8080\nallowPlugins: ["@stavily/plugin-*@>=1 <3"]\nhealthListen: 0.0.0.0:9464\n',
    )
    const f = loadConfig(['--config', yaml], {})
    expect(f.allowPlugins[0]?.range).toBe('>=1 <3')
    expect(f.healthListen).toEqual({ host: '0.0.0.0', port: 9464 })

    expect(() => loadConfig([...base, '--health-listen', 'localhost'], {})).toThrow(
      /--health-listen: expected HOST:PORT/,
    )
    expect(() => loadConfig([...base, '--allow-plugin', '@acme/x@banana'], {})).toThrow(
      /--allow-plugin\[0\]: "banana" is not a semver range/,
    )
    expect(() =>
      loadConfig([...base, '--credential-lifetime-ms', '1000', '--credential-rotate-margin-ms', '1000'], {}),
    ).toThrow(/--credential-rotate-margin-ms: must be less than the credential lifetime/)
    const bad = file('bad-policy.yaml', 'orchestratorUrl: http://o:8080\nallowPlugins: "@acme/*"\n')
    expect(() => loadConfig(['--config', bad], {})).toThrow(/allowPlugins: expected a list of strings/)
  })

  it('answers --version with the package version (what the agent reports to the orchestrator)', () => {
    expect(() => loadConfig(['--version'], {})).toThrow(VersionRequested)
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    expect(AGENT_VERSION).toBe(pkg.version)
  })
})
