import { ErrorCodes } from '@stavily/sdk'
import { type ExecCall, testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

// The manifest leaves the folders to the operator ("$granted"): the test grant.
const granted = {
  manifest: pkg,
  grants: {
    exec: pkg.stavily.permissions.exec,
    env: pkg.stavily.permissions.env,
    secrets: pkg.stavily.permissions.secrets,
    fs: { read: ['/var/backups/db', '/srv/site'], write: ['/var/backups/db', '/srv/site'] },
  },
}

const SHA = 'a'.repeat(64)
const DEST = '/var/backups/db'
const config = {
  database: 'postgres://backup@db.internal:5432/shop',
  destination: DEST,
  name: 'shop',
  keep: 2,
}

/** Fakes for every command the plugin runs; `calls` lists them in order. */
function commands(over: Record<string, (c: ExecCall) => object> = {}) {
  const ok = () => ({ code: 0 })
  return {
    pg_dump: ok,
    pg_restore: ok,
    tar: ok,
    sha256sum: (c: ExecCall) => ({ stdout: `${SHA}  ${c.args.at(-1)}\n` }),
    wc: (c: ExecCall) => ({ stdout: `12345 ${c.args.at(-1)}\n` }),
    mv: ok,
    rm: ok,
    ...over,
  }
}

describe('backup', () => {
  it('dumps with pg_dump in custom format to a partial file, checks it, moves it in place and writes its checksum', async () => {
    const { output, calls, files } = await testAction(plugin, {
      ...granted,
      config: { ...config, schemas: ['public'], passwordSecret: true, timeoutMs: 600_000 },
      input: {},
      secrets: { BACKUP_PG_PASSWORD: 's3cret' },
      files: { [`${DEST}/`]: '' },
      exec: commands(),
    })
    const [dump, sum, wc, mv] = calls.exec
    const partial = dump!.args[2]!.slice('--file='.length)
    expect(partial).toMatch(/^\/var\/backups\/db\/\.shop-\d{8}T\d{9}Z\.dump\.[^/]+\.partial$/)
    expect(dump).toEqual({
      command: 'pg_dump',
      args: [
        '--format=custom',
        '--no-password',
        `--file=${partial}`,
        '--schema=public',
        `--dbname=${config.database}`,
      ],
      // The password travels in the environment, never in argv.
      options: { timeoutMs: 600_000, env: { PGPASSWORD: 's3cret' } },
    })
    expect([sum!.command, wc!.command, mv!.command]).toEqual(['sha256sum', 'wc', 'mv'])
    expect(mv!.args).toEqual(['-f', '--', partial, output.file])
    expect(output).toMatchObject({
      operation: 'backup',
      format: 'postgres',
      sha256: SHA,
      sizeBytes: 12345,
      removed: [],
    })
    expect(files[`${output.file}.sha256`]).toBe(`${SHA}  ${output.file.split('/').pop()}\n`)
  })

  it('keeps the newest N: removes older backups of this name with their checksum files, nothing else', async () => {
    const old = [
      'shop-20250101T000000000Z.dump',
      'shop-20250102T000000000Z.dump',
      'shop-20250103T000000000Z.dump',
    ]
    const { output, calls } = await testAction(plugin, {
      ...granted,
      config,
      input: {},
      files: Object.fromEntries(
        [...old, 'other-20240101T000000000Z.dump', 'shop-notes.txt', 'shop-20250101T000000000Z.tar.gz'].map(
          (f) => [`${DEST}/${f}`, 'x'],
        ),
      ),
      exec: commands(),
    })
    // The fake mv does not create the new backup, so the listing shows the three old ones:
    // keep 2 removes the oldest.
    expect(output.removed).toEqual(old.slice(0, 1))
    const rm = calls.exec.find((c) => c.command === 'rm')!
    expect(rm.args).toEqual([
      '-f',
      '--',
      ...old.slice(0, 1).flatMap((f) => [`${DEST}/${f}`, `${DEST}/${f}.sha256`]),
    ])
  })

  it('removes the partial file and fails retryably when pg_dump fails', async () => {
    const run = testAction(plugin, {
      ...granted,
      config,
      input: {},
      files: { [`${DEST}/`]: '' },
      exec: commands({ pg_dump: () => ({ code: 1, stderr: 'pg_dump: error: connection refused\n' }) }),
    })
    await expect(run).rejects.toMatchObject({
      code: 'BACKUP_FAILED',
      message: 'pg_dump exited with code 1: pg_dump: error: connection refused',
      retryable: true,
    })
    const removed: string[][] = []
    await testAction(plugin, {
      ...granted,
      config,
      input: {},
      files: { [`${DEST}/`]: '' },
      exec: commands({
        pg_dump: () => ({ code: 1 }),
        rm: (c) => {
          removed.push(c.args)
          return { code: 0 }
        },
      }),
    }).catch(() => undefined)
    expect(removed).toHaveLength(1)
    expect(removed[0]![2]).toMatch(/\.partial$/)
  })

  it('restores the newest backup with pg_restore in one transaction, after checking its checksum', async () => {
    const files = {
      [`${DEST}/shop-20250101T000000000Z.dump`]: 'x',
      [`${DEST}/shop-20250102T000000000Z.dump`]: 'x',
      [`${DEST}/shop-20250102T000000000Z.dump.sha256`]: `${SHA}  shop-20250102T000000000Z.dump\n`,
    }
    const { output, calls } = await testAction(plugin, {
      ...granted,
      config,
      input: { operation: 'restore' },
      files,
      exec: commands(),
    })
    const restore = calls.exec.find((c) => c.command === 'pg_restore')!
    expect(restore.args).toEqual([
      '--clean',
      '--if-exists',
      '--no-owner',
      '--exit-on-error',
      '--single-transaction',
      '--no-password',
      `--dbname=${config.database}`,
      `${DEST}/shop-20250102T000000000Z.dump`,
    ])
    expect(output).toMatchObject({ operation: 'restore', target: config.database, sha256: SHA })
    await expect(
      testAction(plugin, {
        ...granted,
        config,
        input: { operation: 'restore' },
        files,
        exec: commands({ sha256sum: () => ({ stdout: `${'b'.repeat(64)}  f\n` }) }),
      }),
    ).rejects.toMatchObject({ code: 'BACKUP_CHECKSUM_MISMATCH' })
  })

  it('archives a folder it may read with tar and gzip, and restores into a folder it may write', async () => {
    const folderConfig = { folder: '/srv/site', exclude: ['./cache'], destination: DEST, name: 'site' }
    const { calls } = await testAction(plugin, {
      ...granted,
      config: folderConfig,
      input: {},
      files: { '/srv/site/index.html': 'x', [`${DEST}/`]: '' },
      exec: commands(),
    })
    expect(calls.fs[0]).toEqual({ op: 'list', path: '/srv/site' })
    const tar = calls.exec.find((c) => c.command === 'tar')!
    expect(tar.args.slice(0, 2)).toEqual(['--create', '--gzip'])
    expect(tar.args.slice(3)).toEqual(['--directory=/srv/site', '--exclude=./cache', '.'])
    await expect(
      testAction(plugin, {
        ...granted,
        config: { ...folderConfig, folder: '/root/.ssh' },
        input: {},
        exec: commands(),
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, data: { permission: 'fs.read' } })
  })

  it('refuses a password in the URL, and config that names both or neither source', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...config, database: 'postgres://u:pw@db/shop' }, 'config.database: has a password in it'],
      [
        { ...config, database: 'postgres://u@db/shop?password=pw' },
        'config.database: has a password parameter',
      ],
      [{ ...config, folder: '/srv' }, 'config.database, config.folder: set exactly one'],
      [{ destination: DEST, name: 'x' }, 'config.database, config.folder: set exactly one'],
      [{ ...config, name: '../x' }, 'config.name'],
      [{ ...config, destination: 'backups' }, 'config.destination'],
      [{ ...config, destination: `${DEST}/` }, 'config.destination: write it without the final "/"'],
      [{ ...config, exclude: ['x'] }, 'config.exclude: only with config.folder'],
    ]
    for (const [c, message] of cases) {
      await expect(
        testAction(plugin, { ...granted, config: c as never, input: {}, exec: commands() }),
        message,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(message) })
    }
    await expect(
      testAction(plugin, {
        ...granted,
        config,
        input: { operation: 'restore', file: '../etc/passwd' },
        files: { [`${DEST}/shop-20250101T000000000Z.dump`]: 'x' },
        exec: commands(),
      }),
    ).rejects.toMatchObject({
      code: 'BACKUP_NOT_FOUND',
      message: expect.stringContaining('input.file: ../etc/passwd'),
    })
    // The absolute path of a backup step's output is accepted only inside the destination.
    await expect(
      testAction(plugin, {
        ...granted,
        config,
        input: { operation: 'restore', file: `${DEST}/../shop-20250101T000000000Z.dump` },
        files: { [`${DEST}/shop-20250101T000000000Z.dump`]: 'x' },
        exec: commands(),
      }),
    ).rejects.toMatchObject({ code: 'BACKUP_NOT_FOUND' })
  })
})
