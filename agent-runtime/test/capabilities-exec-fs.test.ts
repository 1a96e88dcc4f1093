// ctx.exec, ctx.fs, ctx.secrets and ctx.state through the real host: allowlists, no shell,
// scrubbed environment, timeouts, path prefixes after realpath, per-plugin state.
import { randomInt } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'
import { waitForProcess } from './helpers/processes.ts'

let sandbox: Sandbox
let root: string
let granted: string
let outside: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stavily-caps-'))
  granted = join(root, 'granted')
  outside = join(root, 'outside')
  await mkdir(join(granted, 'out'), { recursive: true })
  await mkdir(outside)
  await writeFile(join(granted, 'a.txt'), 'inside')
  await writeFile(join(outside, 'secret.txt'), 'outside secret')
  await symlink(join(outside, 'secret.txt'), join(granted, 'escape.txt'))
  await symlink(outside, join(granted, 'escape-dir'))
  sandbox = await createSandbox()
  const bundle = await buildFixture('caps')
  await sandbox.load({
    manifest: manifest('caps', {
      permissions: {
        exec: ['echo', 'env', 'sleep', 'cat', 'pwd'],
        fs: { read: [granted], write: [join(granted, 'out')] },
        secrets: ['API_TOKEN', 'OTHER_TOKEN'],
        env: ['MINE'],
      },
    }),
    grants: {
      exec: ['echo', 'env', 'sleep', 'pwd'],
      fs: { read: [granted], write: [join(granted, 'out')] },
      secrets: ['API_TOKEN'],
      env: ['MINE'],
    },
    bundle,
    limits: { execTimeoutMs: 3000, execOutputBytes: 1024 },
  })
})
afterAll(async () => {
  await sandbox?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

const call = (input: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  sandbox.invoke('caps', { ...ids(), input, ...extra })

describe('ctx.exec', () => {
  it('runs an allowlisted command with an argv array and no shell: metacharacters stay literal', async () => {
    const marker = join(root, 'pwned')
    const args = [`$(touch ${marker})`, '; rm -rf /', '`id`', '| cat /etc/passwd', '&&', '>', marker]
    const r = await call({ op: 'exec', command: 'echo', args })
    expect(r.output).toMatchObject({ code: 0, signal: null, timedOut: false, stdout: `${args.join(' ')}\n` })
    expect(existsSync(marker)).toBe(false)
  })

  it('starts commands from a scrubbed environment with a fixed PATH', async () => {
    process.env.STAVILY_TEST_LEAK = 'leaked'
    const r = await call({ op: 'exec', command: 'env', options: { env: { MINE: 'yes' } } })
    const lines = (r.output as { stdout: string }).stdout.trim().split('\n').sort()
    expect(lines).toEqual([
      'LANG=C.UTF-8',
      'MINE=yes',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ])
  })

  it('refuses commands not declared, or declared but not granted', async () => {
    await expect(call({ op: 'exec', command: 'ls', args: ['/'] })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'ls', reason: 'undeclared' },
    })
    await expect(call({ op: 'exec', command: 'cat', args: ['/etc/passwd'] })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'cat', reason: 'ungranted' },
    })
    // A path to an allowed name is a different command.
    await expect(call({ op: 'exec', command: '/bin/echo' })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
    })
  })

  it('refuses reserved environment variables', async () => {
    await expect(
      call({ op: 'exec', command: 'env', options: { env: { LD_PRELOAD: '/tmp/x.so' } } }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('exec options.env.LD_PRELOAD'),
    })
  })

  it('runs a command in a cwd only inside the fs read grant, checked after symlinks', async () => {
    const inside = await call({ op: 'exec', command: 'pwd', options: { cwd: join(granted, 'out') } })
    expect(inside.output).toMatchObject({ code: 0, stdout: `${join(granted, 'out')}\n` })
    // Outside the grant, by path or through a symlink inside it: refused before anything runs.
    for (const cwd of [outside, `${granted}/../outside`, join(granted, 'escape-dir'), '/']) {
      await expect(call({ op: 'exec', command: 'pwd', options: { cwd } }), cwd).rejects.toMatchObject({
        code: C.PERMISSION_DENIED,
        data: { permission: 'fs.read' },
      })
    }
  })

  it('kills a command past its timeout and caps its output', async () => {
    const slow = await call({ op: 'exec', command: 'sleep', args: ['10'], options: { timeoutMs: 200 } })
    expect(slow.output).toMatchObject({ timedOut: true, code: null, signal: 'SIGTERM' })
    const big = await call({ op: 'exec', command: 'echo', args: ['y'.repeat(5000)] })
    expect((big.output as { stdout: string }).stdout).toMatch(/^y{1024}\n\[truncated at 1024 bytes\]$/)
  })
})

describe('stopping a call (an operator cancel, a lost lease, shutdown)', () => {
  it('ends the command it is running at once, not at its timeout, and returns what the plugin made of it', async () => {
    const stop = new AbortController()
    // A duration no other process uses, so the wait below finds this very command.
    const seconds = `10.${randomInt(1e6)}`
    const running = call({ op: 'exec', command: 'sleep', args: [seconds] }, { signal: stop.signal })
    // Stop once the command runs: a stop that lands earlier would test another path.
    await waitForProcess(['sleep', seconds])
    stop.abort()
    // Killed by the stop (SIGTERM), not by the 3 s exec timeout (which would say timedOut).
    expect((await running).output).toMatchObject({ timedOut: false, code: null, signal: 'SIGTERM' })
  })

  it('ends a call that does not return after a stop with STAVILY_ERR_SANDBOX_STOPPED', async () => {
    const stop = new AbortController()
    const running = call({ op: 'hang' }, { signal: stop.signal })
    // The host has the call once a stats request sent after it is answered (one ordered channel).
    await sandbox.stats()
    stop.abort()
    await expect(running).rejects.toMatchObject({ code: C.STOPPED, retryable: false })
    // The plugin still answers the next call.
    expect((await call({ op: 'exec', command: 'echo', args: ['after'] })).output).toMatchObject({ code: 0 })
  })
})

describe('ctx.fs', () => {
  it('reads and lists inside the granted prefix', async () => {
    expect((await call({ op: 'read', path: join(granted, 'a.txt') })).output).toEqual({ text: 'inside' })
    expect((await call({ op: 'list', path: granted })).output).toEqual({
      names: ['a.txt', 'escape-dir', 'escape.txt', 'out'],
    })
  })

  it('refuses path traversal out of the prefix', async () => {
    await expect(call({ op: 'read', path: `${granted}/../outside/secret.txt` })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.read', reason: 'undeclared' },
    })
    await expect(call({ op: 'read', path: '/etc/passwd' })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
    })
  })

  it('refuses symlinks that lead out of the prefix', async () => {
    await expect(call({ op: 'read', path: join(granted, 'escape.txt') })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { reason: 'symlink' },
    })
    await expect(call({ op: 'read', path: join(granted, 'escape-dir', 'secret.txt') })).rejects.toMatchObject(
      {
        code: C.PERMISSION_DENIED,
      },
    )
    await expect(call({ op: 'list', path: join(granted, 'escape-dir') })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
    })
  })

  it('writes only under the write prefix, and never through a planted symlink', async () => {
    const r = await call({ op: 'write', path: join(granted, 'out', 'note.txt'), text: 'hello' })
    expect(r.output).toEqual({ written: true })
    expect(await readFile(join(granted, 'out', 'note.txt'), 'utf8')).toBe('hello')
    await expect(call({ op: 'write', path: join(granted, 'a.txt'), text: 'x' })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'fs.write' },
    })
    await symlink(join(outside, 'secret.txt'), join(granted, 'out', 'planted.txt'))
    await expect(
      call({ op: 'write', path: join(granted, 'out', 'planted.txt'), text: 'x' }),
    ).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
    })
    expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('outside secret')
  })
})

describe('ctx.secrets and ctx.state', () => {
  it('gives a declared and granted secret the caller supplied, and nothing else', async () => {
    const secrets = { API_TOKEN: 't0k3n', OTHER_TOKEN: 'other', UNDECLARED: 'x' }
    expect((await call({ op: 'secret', name: 'API_TOKEN' }, { secrets })).output).toEqual({ value: 't0k3n' })
    await expect(call({ op: 'secret', name: 'OTHER_TOKEN' }, { secrets })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { reason: 'ungranted' },
    })
    await expect(call({ op: 'secret', name: 'UNDECLARED' }, { secrets })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { reason: 'undeclared' },
    })
    await expect(call({ op: 'secret', name: 'API_TOKEN' })).rejects.toMatchObject({ code: C.SECRET_MISSING })
  })

  it('keeps JSON state per plugin and refuses values over the size limit', async () => {
    await call({ op: 'state-set', name: 'cursor', value: { at: 42, ids: ['a'] } })
    expect((await call({ op: 'state-get', name: 'cursor' })).output).toEqual({
      value: { at: 42, ids: ['a'] },
    })
    await expect(call({ op: 'state-set', name: 'big', value: 'x'.repeat(70 * 1024) })).rejects.toMatchObject({
      code: C.STATE_TOO_LARGE,
    })
  })
})
