// The agent's grants for capabilities whose targets the operator chooses: "$granted" belongs
// to manifests and is refused in a grant at start, naming where it came from.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { loadConfig } from '../../src/agent/config.ts'
import { mergeGrants } from '../../src/agent/merge-grants.ts'
import { credentialSecrets } from '../../src/sandbox/host/capabilities/connections.ts'

const dir = tempDir('agent-config-grants')
function file(name: string, text: string): string {
  const f = join(dir, name)
  writeFileSync(f, text)
  return f
}
const o = ['--orchestrator', 'http://o']

describe('agent grants', () => {
  it('refuses "$granted" in a grant, by flag, variable or file', () => {
    expect(() => loadConfig([...o, '--allow-host', '$granted'], {})).toThrow(
      /--allow-host\[0\]: "\$granted" is for plugin manifests/,
    )
    expect(() => loadConfig(o, { STAVILY_ALLOW_COMMANDS: 'echo,$granted' })).toThrow(
      /STAVILY_ALLOW_COMMANDS\[1\]: "\$granted" is for plugin manifests/,
    )
    const f = file(
      'g.yaml',
      'orchestratorUrl: http://o\nplugins:\n  p:\n    grants: { fs: { read: ["$granted"] } }\n',
    )
    expect(() => loadConfig(['--config', f], {})).toThrow(
      `${f}: plugins.p.grants.fs.read[0]: "$granted" is for plugin manifests`,
    )
  })

  it('reads PostgreSQL connections and SMTP relays by name, granting their password secrets', () => {
    const f = file(
      'c.yaml',
      [
        'orchestratorUrl: http://o',
        'grants:',
        '  sql:',
        '    main: { url: "postgres://reader@db.internal:5432/app?sslmode=verify-full", passwordSecret: APP_DB_PASSWORD }',
        'plugins:',
        '  "@stavily/plugin-webhook":',
        '    grants:',
        '      smtp:',
        '        mail: { url: "smtp://stavily@mail.internal:587", passwordFile: /etc/stavily/smtp.pass, from: "Stavily <s@example.com>" }',
      ].join('\n'),
    )
    const config = loadConfig(['--config', f], {})
    expect(config.grants.sql).toEqual(['main'])
    expect(config.grants.secrets).toEqual(['APP_DB_PASSWORD'])
    expect(config.grants.connections.sql.main).toEqual({
      url: 'postgres://reader@db.internal:5432/app?sslmode=verify-full',
      passwordSecret: 'APP_DB_PASSWORD',
    })
    const webhook = config.plugins['@stavily/plugin-webhook']!
    expect(webhook.grants.smtp).toEqual(['mail'])
    expect(webhook.grants.connections.smtp.mail).toMatchObject({ passwordFile: '/etc/stavily/smtp.pass' })
  })

  it('refuses a bad connection, naming the field', () => {
    const bad = (yaml: string) => () =>
      loadConfig(['--config', file('b.yaml', `orchestratorUrl: http://o\n${yaml}\n`)], {})
    expect(bad('grants: { sql: { main: { url: "postgres://u:pw@db/app" } } }')).toThrow(
      /grants\.sql\.main\.url: must not contain a password; use passwordSecret/,
    )
    expect(bad('grants: { sql: { main: { url: "mysql://db/app" } } }')).toThrow(
      /grants\.sql\.main\.url: expected a postgres: or postgresql:\/\/ URL/,
    )
    expect(bad('grants: { sql: { Main: { url: "postgres://db/app" } } }')).toThrow(
      /grants\.sql\.Main: a name uses a-z/,
    )
    expect(bad('grants: { smtp: { mail: { url: "smtp://m:25", tls: maybe } } }')).toThrow(
      /grants\.smtp\.mail\.tls: expected "starttls", "tls" or "none"/,
    )
    expect(bad('grants: { smtp: { mail: { url: "smtp://relay.example.com:25", tls: none } } }')).toThrow(
      /grants\.smtp\.mail\.tls: "none" is only for a relay on this host .*relay\.example\.com needs "starttls" or "tls"/,
    )
    expect(() =>
      loadConfig(
        [
          '--config',
          file(
            'local.yaml',
            'orchestratorUrl: http://o\ngrants: { smtp: { mail: { url: "smtp://127.0.0.1:25", tls: none } } }\n',
          ),
        ],
        {},
      ),
    ).not.toThrow()
    expect(
      bad('grants: { sql: { main: { url: "postgres://db/app", passwordSecret: X, passwordFile: /x } } }'),
    ).toThrow(/set passwordSecret or passwordFile, not both/)
  })
  it("does not leave a replaced global connection's password readable by the plugin that replaced it", () => {
    const f = file(
      'override.yaml',
      [
        'orchestratorUrl: http://o',
        'grants:',
        '  sql:',
        '    main: { url: "postgres://reader@db.internal/app", passwordSecret: PG_PASSWORD }',
        '  smtp:',
        '    mail: { url: "smtp://relay.internal:587", passwordSecret: SMTP_PASSWORD, from: "s@example.com" }',
        'plugins:',
        '  evil:',
        '    grants:',
        '      sql:',
        '        main: { url: "postgres://other@db2.internal/app", passwordFile: /etc/stavily/db2.pass }',
        '      smtp:',
        '        mail: { url: "smtp://relay2.internal:587", passwordFile: /etc/stavily/relay2.pass, from: "s@example.com" }',
      ].join('\n'),
    )
    const config = loadConfig(['--config', f], {})
    const evil = mergeGrants(config.grants, config.plugins.evil!.grants)
    // Its own definitions replace the global ones, whose passwords are then neither granted
    // (so the orchestrator does not send them) nor needed.
    expect(evil.connections!.sql.main).toMatchObject({ passwordFile: '/etc/stavily/db2.pass' })
    expect(evil.secrets).not.toContain('PG_PASSWORD')
    expect(evil.secrets).not.toContain('SMTP_PASSWORD')
    // A plugin without its own keeps the global ones, and their passwords stay blocked from its code.
    const other = mergeGrants(config.grants, undefined)
    expect(other.secrets).toEqual(['PG_PASSWORD', 'SMTP_PASSWORD'])
    expect([...credentialSecrets(other.connections!).keys()]).toEqual(['PG_PASSWORD', 'SMTP_PASSWORD'])
  })
})
