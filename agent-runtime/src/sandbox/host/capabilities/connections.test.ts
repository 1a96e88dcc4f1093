import { describe, expect, it } from 'vitest'
import { hostGrants, hostPlugin } from '../../../../test/helpers/host-plugin.ts'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import {
  type Connections,
  checkDefinitions,
  credentialSecrets,
  emptyConnections,
  splitGrants,
} from './connections.ts'

// The operator's sql connections and smtp relays: how they travel beside the grant names,
// which secrets are their passwords, and the checks a definition passes (at agent start and
// again at load), each failure naming the field and what to write instead.

const fail = (where: string, message: string) => new Error(`${where}: ${message}`)

/** The message checkDefinitions fails with, or the normalised definitions. */
function check(kind: 'sql' | 'smtp', value: unknown): unknown {
  try {
    return checkDefinitions(kind, value, 'grants.sql', fail)
  } catch (err) {
    return (err as Error).message
  }
}
const sql = (value: unknown) => check('sql', value)
const smtp = (value: unknown) => check('smtp', value)

describe('splitGrants', () => {
  it('separates the definitions from the names the permission guard gets', () => {
    const connections: Connections = {
      sql: { main: { url: 'postgres://reader@db:5432/app' } },
      smtp: { mail: { url: 'smtp://stavily@mail:587' } },
    }
    const names = {
      net: ['api.example.com'],
      exec: [],
      secrets: ['A'],
      fs: { read: [], write: [] },
      sql: ['main'],
    }
    const split = splitGrants({ ...names, connections })
    expect(split.grants).toStrictEqual(names)
    expect(split.connections).toBe(connections)
  })

  it('gives empty definitions when the grants carry none', () => {
    const split = splitGrants({ net: [], exec: [], secrets: [], fs: { read: [], write: [] } })
    expect(split.connections).toStrictEqual({ sql: {}, smtp: {} })
    expect(emptyConnections()).toStrictEqual({ sql: {}, smtp: {} })
    // A fresh object each time: one plugin's definitions never end up in another's.
    expect(emptyConnections()).not.toBe(emptyConnections())
  })

  it('as a loaded plugin carries them: names for the guard, checked definitions beside', () => {
    const plugin = hostPlugin({
      permissions: { sql: ['$granted'], smtp: ['mail'], secrets: ['PG_PASSWORD'] },
      grants: {
        sql: ['main'],
        smtp: ['mail'],
        secrets: ['PG_PASSWORD'],
        connections: {
          sql: { main: { url: 'postgres://reader@db:5432/app', passwordSecret: 'PG_PASSWORD' } },
          smtp: { mail: { url: 'smtp://stavily@mail:587', from: 'ops@example.com' } },
        },
      },
    })
    const { guard, connections, credentials } = hostGrants(plugin)
    expect(connections).toStrictEqual({
      sql: { main: { url: 'postgres://reader@db:5432/app', passwordSecret: 'PG_PASSWORD' } },
      smtp: { mail: { url: 'smtp://stavily@mail:587', from: 'ops@example.com' } },
    })
    expect(guard.sql('main')).toBe('main')
    expect(guard.smtp('mail')).toBe('mail')
    expect(credentials).toStrictEqual(new Map([['PG_PASSWORD', 'sql connection "main"']]))
  })
})

describe('credentialSecrets', () => {
  it('names every secret a connection or relay uses as its password, and what uses it', () => {
    const out = credentialSecrets({
      sql: {
        main: { url: 'postgres://a@db/app', passwordSecret: 'PG_PASSWORD' },
        files: { url: 'postgres://a@db/app', passwordFile: '/etc/stavily/pg' },
        open: { url: 'postgres://a@db/app' },
      },
      smtp: {
        mail: { url: 'smtp://a@mail:587', passwordSecret: 'SMTP_PASSWORD' },
        local: { url: 'smtp://localhost:25', tls: 'none' },
      },
    })
    expect([...out]).toStrictEqual([
      ['PG_PASSWORD', 'sql connection "main"'],
      ['SMTP_PASSWORD', 'smtp relay "mail"'],
    ])
  })

  it('is empty without definitions or passwords', () => {
    expect(credentialSecrets(emptyConnections()).size).toBe(0)
    expect(credentialSecrets({ sql: { a: { url: 'postgres://a@db/x' } }, smtp: {} }).size).toBe(0)
  })
})

describe('checkDefinitions', () => {
  it('returns nothing defined for an absent map, and the definitions as written when right', () => {
    expect(sql(undefined)).toStrictEqual({})
    expect(sql({})).toStrictEqual({})
    expect(
      sql({
        main: {
          url: 'postgres://reader@db.internal:5432/app?sslmode=require',
          passwordSecret: 'PG_PASSWORD',
        },
        'writer-2': { url: 'postgresql://writer@db/app', passwordFile: '/run/secrets/pg', write: true },
        ro: { url: 'postgres://reader@db/app', write: false },
      }),
    ).toStrictEqual({
      main: { url: 'postgres://reader@db.internal:5432/app?sslmode=require', passwordSecret: 'PG_PASSWORD' },
      'writer-2': { url: 'postgresql://writer@db/app', passwordFile: '/run/secrets/pg', write: true },
      ro: { url: 'postgres://reader@db/app', write: false },
    })
    expect(
      smtp({
        mail: {
          url: 'smtp://stavily@mail.internal:587',
          passwordSecret: 'SMTP_PASSWORD',
          from: 'Stavily <stavily@example.com>',
          tls: 'starttls',
          caFile: '/etc/ssl/mail-ca.pem',
        },
        secure: { url: 'smtps://stavily@mail.internal', tls: 'tls' },
        local: { url: 'smtp://localhost:25', tls: 'none' },
        loop: { url: 'smtp://127.0.0.2:25', tls: 'none' },
        six: { url: 'smtp://[::1]:25', tls: 'none' },
      }),
    ).toStrictEqual({
      mail: {
        url: 'smtp://stavily@mail.internal:587',
        passwordSecret: 'SMTP_PASSWORD',
        from: 'Stavily <stavily@example.com>',
        tls: 'starttls',
        caFile: '/etc/ssl/mail-ca.pem',
      },
      secure: { url: 'smtps://stavily@mail.internal', tls: 'tls' },
      local: { url: 'smtp://localhost:25', tls: 'none' },
      loop: { url: 'smtp://127.0.0.2:25', tls: 'none' },
      six: { url: 'smtp://[::1]:25', tls: 'none' },
    })
  })

  it('refuses a map that is not an object, with an example of one', () => {
    const sqlHint =
      'grants.sql: expected an object of connections by name, e.g. { main: { url: "postgres://reader@db:5432/app", passwordSecret: PG_PASSWORD } }'
    const smtpHint =
      'grants.sql: expected an object of relays by name, e.g. { mail: { url: "smtp://stavily@mail:587", passwordSecret: SMTP_PASSWORD } }'
    for (const bad of [null, ['main'], 'main', 7]) {
      expect(sql(bad)).toBe(sqlHint)
      expect(smtp(bad)).toBe(smtpHint)
    }
  })

  it('refuses a name the plugin could not refer to', () => {
    for (const name of ['Main', '1db', 'my db', '_x', '-x'])
      expect(sql({ [name]: { url: 'postgres://a@db/x' } })).toBe(
        `grants.sql.${name}: a name uses a-z, 0-9, _ and -, starting with a letter (the plugin refers to it)`,
      )
  })

  it('refuses a definition that is not an object, and unknown settings, naming the expected ones', () => {
    for (const def of [null, 'postgres://a@db/x', ['postgres://a@db/x']])
      expect(sql({ main: def })).toBe(
        'grants.sql.main: expected an object { url, passwordSecret?, passwordFile?, ... }',
      )
    expect(sql({ main: { url: 'postgres://a@db/x', password: 'hunter2' } })).toBe(
      'grants.sql.main.password: unknown setting; expected one of url, passwordSecret, passwordFile, write',
    )
    // Settings of the other kind are unknown too.
    expect(sql({ main: { url: 'postgres://a@db/x', from: 'a@b.c' } })).toBe(
      'grants.sql.main.from: unknown setting; expected one of url, passwordSecret, passwordFile, write',
    )
    expect(smtp({ mail: { url: 'smtp://a@mail:587', write: true } })).toBe(
      'grants.sql.mail.write: unknown setting; expected one of url, passwordSecret, passwordFile, from, tls, caFile',
    )
  })

  it('refuses a URL that does not parse, has another scheme or no host', () => {
    expect(sql({ main: { url: 'db:5432' } })).toBe(
      'grants.sql.main.url: expected a postgres: or postgresql:// URL with a host such as "postgres://reader@db.internal:5432/app"',
    )
    expect(sql({ main: { url: 'not a url' } })).toBe(
      'grants.sql.main.url: expected a URL such as "postgres://reader@db.internal:5432/app", got "not a url"',
    )
    expect(sql({ main: {} })).toBe(
      'grants.sql.main.url: expected a URL such as "postgres://reader@db.internal:5432/app", got undefined',
    )
    expect(smtp({ mail: { url: 'not a url' } })).toBe(
      'grants.sql.mail.url: expected a URL such as "smtp://stavily@mail.internal:587", got "not a url"',
    )
    expect(sql({ main: { url: 'mysql://a@db/x' } })).toMatch(/^grants\.sql\.main\.url: expected a postgres:/)
    expect(sql({ main: { url: 'smtp://a@db/x' } })).toMatch(/^grants\.sql\.main\.url: expected a postgres:/)
    expect(smtp({ mail: { url: 'postgres://a@mail/x' } })).toBe(
      'grants.sql.mail.url: expected a smtp: or smtps:// URL with a host such as "smtp://stavily@mail.internal:587"',
    )
    expect(sql({ main: { url: 'postgres:///app' } })).toMatch(/^grants\.sql\.main\.url: expected a postgres:/)
    // Something that reads as a URL but is no string (a URL object from code) is refused too.
    expect(sql({ main: { url: new URL('postgres://a@db/x') } })).toMatch(
      /^grants\.sql\.main\.url: expected a postgres:/,
    )
  })

  it('refuses a password written into the URL: it would end up in logs and backups', () => {
    for (const [check, url] of [
      [sql, 'postgres://reader:hunter2@db/app'],
      [smtp, 'smtp://stavily:hunter2@mail:587'],
    ] as const)
      expect(check({ main: { url } })).toBe(
        'grants.sql.main.url: must not contain a password; use passwordSecret (a Stavily secret) or passwordFile',
      )
  })

  it('takes the password from a secret or a file, not both, each checked', () => {
    const url = 'postgres://reader@db/app'
    for (const secret of ['pg_password', '', 7])
      expect(sql({ main: { url, passwordSecret: secret } })).toBe(
        'grants.sql.main.passwordSecret: expected a secret name such as "PG_PASSWORD"',
      )
    for (const file of ['secrets/pg', '', 7])
      expect(sql({ main: { url, passwordFile: file } })).toBe(
        'grants.sql.main.passwordFile: expected an absolute path',
      )
    expect(sql({ main: { url, passwordSecret: 'PG_PASSWORD', passwordFile: '/run/pg' } })).toBe(
      'grants.sql.main: set passwordSecret or passwordFile, not both',
    )
    expect(smtp({ mail: { url: 'smtp://a@mail:587', passwordSecret: 'X', passwordFile: '/run/x' } })).toBe(
      'grants.sql.mail: set passwordSecret or passwordFile, not both',
    )
  })

  it('takes write as true or false only', () => {
    for (const write of ['true', 1, null])
      expect(sql({ main: { url: 'postgres://a@db/x', write } })).toBe(
        'grants.sql.main.write: expected true or false',
      )
  })

  it('checks a relay’s sender: one address line', () => {
    for (const from of ['', 'a@b.c\r\nBcc: victim@example.com', 'a@b.c\nx', 'a@b.c\rx', 7])
      expect(smtp({ mail: { url: 'smtp://a@mail:587', from } })).toBe(
        'grants.sql.mail.from: expected an address such as "Stavily <stavily@example.com>"',
      )
  })

  it('takes tls as starttls, tls or none, and none only for a relay on this host', () => {
    expect(smtp({ mail: { url: 'smtp://a@mail:587', tls: 'STARTTLS' } })).toBe(
      'grants.sql.mail.tls: expected "starttls", "tls" or "none"',
    )
    expect(smtp({ mail: { url: 'smtp://a@mail:587', tls: true } })).toBe(
      'grants.sql.mail.tls: expected "starttls", "tls" or "none"',
    )
    for (const [url, host] of [
      ['smtp://mail.internal:25', 'mail.internal'],
      ['smtp://10.0.0.5:25', '10.0.0.5'],
      ['smtp://[fd00::1]:25', 'fd00::1'],
      ['smtp://localhost.example.com:25', 'localhost.example.com'],
      ['smtp://128.0.0.1:25', '128.0.0.1'],
      ['smtp://10.127.0.1:25', '10.127.0.1'],
    ])
      expect(smtp({ mail: { url, tls: 'none' } })).toBe(
        `grants.sql.mail.tls: "none" is only for a relay on this host (localhost, 127.0.0.1, ::1); ${host} needs "starttls" or "tls"`,
      )
    // Only "none" is limited to this host.
    expect(smtp({ mail: { url: 'smtp://mail.internal:25', tls: 'starttls' } })).toStrictEqual({
      mail: { url: 'smtp://mail.internal:25', tls: 'starttls' },
    })
  })

  it('takes caFile as an absolute path', () => {
    for (const caFile of ['ca.pem', 7])
      expect(smtp({ mail: { url: 'smtp://a@mail:587', caFile } })).toBe(
        'grants.sql.mail.caFile: expected an absolute path to a PEM file',
      )
  })

  it('fails a plugin load with INVALID_ARGUMENT naming the grant', () => {
    let error: { code?: string; message?: string } = {}
    try {
      hostPlugin({
        permissions: { sql: ['$granted'] },
        grants: { sql: ['main'], connections: { sql: { main: { url: 'postgres://a:pw@db/x' } } } },
      })
    } catch (err) {
      error = err as typeof error
    }
    expect({ code: error.code, message: error.message }).toStrictEqual({
      code: C.INVALID_ARGUMENT,
      message:
        'grants.connections.sql.main.url: must not contain a password; use passwordSecret (a Stavily secret) or passwordFile',
    })
  })
})
