import { randomInt } from 'node:crypto'
import { getEventListeners } from 'node:events'
import { chmodSync, existsSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPermissionGuard, type Permissions } from '@stavily/sdk/manifest'
import { describe, expect, it, vi } from 'vitest'
import { tempDir } from '../../../../../test/temp-dir.ts'
import { findProcesses, waitForProcess } from '../../../../test/helpers/processes.ts'
import { DEFAULT_LIMITS, EXEC_DEFAULTS, type PluginLimits } from '../../../defaults.ts'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import { type ExecOptions, hostExec } from './exec.ts'
import { checkCwd } from './fs.ts'

// ctx.exec on the host, with real commands: no shell, a command allowed by the manifest and
// the operator, an environment of allowed names only, a cwd inside the read grant, a
// timeout (or the call's end) that kills the command's whole process group, capped output.

const root = realpathSync(tempDir('caps-exec'))
const granted = join(root, 'granted')
const outside = join(root, 'outside')
const notExecutable = join(root, 'not-executable')
const missing = '/nonexistent/stavily-command'
mkdirSync(join(granted, 'sub'), { recursive: true })
mkdirSync(outside)
symlinkSync(join(granted, 'sub'), join(granted, 'link'))
symlinkSync(outside, join(granted, 'escape'))
writeFileSync(notExecutable, '#!/bin/sh\necho ran\n')
chmodSync(notExecutable, 0o644)

const COMMANDS = ['echo', 'env', 'pwd', 'cat', 'sleep', 'sh', 'node', 'true', 'stavily-no-such-command']
const permissions = (exec: string[], env: string[]): Permissions => ({
  net: [],
  exec,
  secrets: [],
  fs: { read: [granted], write: [] },
  env,
})
const guard = createPermissionGuard(
  permissions(
    [...COMMANDS, 'printf', '/usr/bin/echo', notExecutable, missing],
    ['MINE', 'MY_*', 'LANG', 'DECLARED_ONLY'],
  ),
  permissions([...COMMANDS, '/usr/bin/echo', notExecutable, missing], ['MINE', 'MY_*', 'LANG']),
)

function options(
  over: Omit<Partial<ExecOptions>, 'limits'> & { limits?: Partial<PluginLimits> } = {},
): ExecOptions {
  const limits = { ...DEFAULT_LIMITS, execTimeoutMs: 10_000, ...over.limits }
  return {
    guard,
    signal: new AbortController().signal,
    deadline: Date.now() + 60_000,
    checkCwd: (path) => checkCwd(path, { guard, limits }),
    ...over,
    limits,
  }
}

const exec = (command: unknown, args: unknown = [], opts: unknown = undefined, o = options()) =>
  hostExec(command, args, opts, o)

/** What `p` rejects with, as the fields a plugin sees. */
const rejection = async (p: Promise<unknown>) => {
  try {
    await p
  } catch (err) {
    const e = err as { code: string; message: string; data?: unknown }
    return { code: e.code, message: e.message, data: e.data }
  }
  throw new Error('expected a rejection')
}

/** Waits until no process runs with this argv (a killed one may take a moment to go). */
async function gone(argv: string[]): Promise<boolean> {
  const end = Date.now() + 5_000
  while ((await findProcesses(argv)).length > 0) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 10))
  }
  return true
}

/** A duration no other process uses, so a process search finds this very command. */
const uniqueSeconds = (whole: number) => `${whole}.${randomInt(1e6)}`

describe('running a command', () => {
  it('runs a granted command by name with an argv array and no shell: metacharacters stay literal', async () => {
    const marker = join(root, 'pwned')
    const args = [`$(touch ${marker})`, '; rm -rf /', '`id`', '| cat /etc/passwd', '&&', '>', marker, '']
    expect(await exec('echo', args)).toEqual({
      code: 0,
      signal: null,
      stdout: `${args.join(' ')}\n`,
      stderr: '',
      timedOut: false,
    })
    expect(existsSync(marker)).toBe(false)
  })

  it("stops listening to the call's signal once the command is done", async () => {
    const o = options()
    await exec('true', [], undefined, o)
    expect(getEventListeners(o.signal, 'abort')).toHaveLength(0)
  })

  it('leaves no timer behind once the command is done', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      expect(await exec('true')).toMatchObject({ code: 0, timedOut: false })
      expect(vi.getTimerCount()).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })

  it('runs a granted absolute path as it is', async () => {
    expect(await exec('/usr/bin/echo', ['abs'])).toMatchObject({ code: 0, stdout: 'abs\n' })
  })

  it('passes empty arguments as arguments', async () => {
    const r = await exec('node', ['-e', 'console.log(JSON.stringify(process.argv.slice(1)))', '', 'x'])
    expect(JSON.parse(r.stdout)).toEqual(['', 'x'])
  })

  it('reports the exit code, and the signal of a command that was killed', async () => {
    expect(await exec('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({
      code: 3,
      signal: null,
      stdout: 'out\n',
      stderr: 'err\n',
      timedOut: false,
    })
    expect(await exec('sh', ['-c', 'kill -KILL $$'])).toMatchObject({
      code: null,
      signal: 'SIGKILL',
      timedOut: false,
    })
  })

  it('starts in / unless told otherwise', async () => {
    expect((await exec('pwd')).stdout).toBe('/\n')
    expect((await exec('pwd', [], { cwd: null })).stdout).toBe('/\n')
  })
})

describe('the environment', () => {
  it('is built from nothing: a fixed PATH, LANG and the allowed names given', async () => {
    process.env.STAVILY_TEST_LEAK = 'leaked'
    try {
      const r = await exec('env', [], { env: { MINE: 'yes', MY_EMPTY: '' } })
      expect(r.stdout.trim().split('\n').sort()).toEqual([
        'LANG=C.UTF-8',
        'MINE=yes',
        'MY_EMPTY=',
        `PATH=${EXEC_DEFAULTS.path}`,
      ])
    } finally {
      delete process.env.STAVILY_TEST_LEAK
    }
  })

  it('lets an allowed LANG replace the default', async () => {
    const r = await exec('env', [], { env: { LANG: 'C' } })
    expect(r.stdout.trim().split('\n').sort()).toEqual(['LANG=C', `PATH=${EXEC_DEFAULTS.path}`])
  })

  it('takes up to 100 names, values up to 32 KiB, and refuses more', async () => {
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`MY_${i}`, `${i}`]))
    expect((await exec('env', [], { env: hundred })).stdout.trim().split('\n')).toHaveLength(102)
    expect(await rejection(exec('env', [], { env: { ...hundred, MY_100: '' } }))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: 'exec options.env: expected at most 100 entries, got "101 entries"',
      data: undefined,
    })
    const big = 'v'.repeat(32 * 1024)
    expect((await exec('env', [], { env: { MY_BIG: big } })).stdout).toContain(`MY_BIG=${big}\n`)
    expect((await rejection(exec('env', [], { env: { MY_BIG: `${big}v` } }))).message).toBe(
      'exec options.env.MY_BIG: expected a string of at most 32768 characters, got a string of 32769 characters',
    )
  })

  it('refuses names not declared, not granted, or reserved, before looking the command up', async () => {
    expect(await rejection(exec('env', [], { env: { OTHER: '1' } }))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'env', value: 'OTHER', reason: 'undeclared' },
    })
    expect(await rejection(exec('env', [], { env: { DECLARED_ONLY: '1' } }))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'env', value: 'DECLARED_ONLY', reason: 'ungranted' },
    })
    expect(await rejection(exec('env', [], { env: { MY_A: '1', LD_PRELOAD: '/x.so' } }))).toMatchObject({
      code: C.PERMISSION_DENIED,
      message: expect.stringMatching(/^exec options\.env\.LD_PRELOAD: permission denied: /),
      data: { permission: 'env', value: 'LD_PRELOAD', reason: 'reserved' },
    })
    // Refused whether or not the command is installed.
    expect(await rejection(exec('stavily-no-such-command', [], { env: { OTHER: '1' } }))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'env' },
    })
  })

  it('refuses an env that is not an object of strings', async () => {
    expect((await rejection(exec('env', [], { env: ['MINE=1'] }))).message).toBe(
      'exec options.env: expected an object, got an array',
    )
    expect((await rejection(exec('env', [], { env: { MINE: 1 } }))).message).toBe(
      'exec options.env.MINE: expected a string of at most 32768 characters, got number',
    )
  })
})

describe('which commands', () => {
  it('refuses a command not declared, or declared and not granted', async () => {
    expect(await rejection(exec('ls', ['/']))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'ls', reason: 'undeclared' },
    })
    expect(await rejection(exec('printf', ['x']))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'printf', reason: 'ungranted' },
    })
    // A path to an allowed name is another command.
    expect(await rejection(exec('/bin/sh', ['-c', 'true']))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'exec', value: '/bin/sh' },
    })
  })

  it('checks the command before its environment', async () => {
    expect(await rejection(exec('ls', [], { env: ['bad'] }))).toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'exec', value: 'ls' },
    })
  })

  it('fails a granted name that is not on the fixed PATH, naming the PATH', async () => {
    expect(await rejection(exec('stavily-no-such-command'))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `exec stavily-no-such-command: not found on the agent's PATH (${EXEC_DEFAULTS.path})`,
      data: undefined,
    })
  })

  it('fails a granted absolute path that cannot be run, with what the system said', async () => {
    expect(await rejection(exec(missing))).toEqual({
      code: C.CAPABILITY_FAILED,
      message: `exec ${missing}: spawn ${missing} ENOENT`,
      data: undefined,
    })
    expect((await rejection(exec(notExecutable))).message).toBe(
      `exec ${notExecutable}: spawn ${notExecutable} EACCES`,
    )
  })

  it('no longer listens to the call signal once a command failed to start', async () => {
    const o = options()
    await rejection(exec(missing, [], undefined, o))
    expect(getEventListeners(o.signal, 'abort')).toHaveLength(0)
  })
})

describe('arguments', () => {
  it.each<[string, unknown, string]>([
    ['a number', 7, 'exec command: expected a non-empty string of at most 4096 characters, got number'],
    ['empty', '', 'exec command: expected a non-empty string of at most 4096 characters, got ""'],
    [
      '4097 characters',
      'e'.repeat(4097),
      'exec command: expected a non-empty string of at most 4096 characters, got a string of 4097 characters',
    ],
    ['with NUL', 'ec\0ho', 'exec command: expected a string without NUL characters, got "ec\\u0000ho"'],
  ])('refuses a command %s', async (_, command, message) => {
    expect(await rejection(exec(command))).toEqual({ code: C.CAPABILITY_FAILED, message, data: undefined })
  })

  it('takes a command of 4096 characters to the permission check', async () => {
    expect(await rejection(exec('e'.repeat(4096)))).toMatchObject({ code: C.PERMISSION_DENIED })
  })

  it('takes up to 1000 arguments of up to 64 KiB each, and refuses more', async () => {
    const thousand = Array.from({ length: 1000 }, () => 'a')
    expect((await exec('echo', thousand)).stdout).toBe(`${thousand.join(' ')}\n`)
    expect((await rejection(exec('echo', [...thousand, 'a']))).message).toBe(
      'exec args: expected an array of at most 1000 strings, got an array',
    )
    const long = 'l'.repeat(64 * 1024)
    expect((await exec('echo', [long])).stdout).toBe(`${long}\n`)
    expect((await rejection(exec('echo', ['ok', `${long}l`]))).message).toBe(
      'exec args[1]: expected a string of at most 65536 characters, got a string of 65537 characters',
    )
  })

  it('refuses args that are not an array of strings', async () => {
    expect((await rejection(exec('echo', 'a b'))).message).toBe(
      'exec args: expected an array of at most 1000 strings, got "a b"',
    )
    expect((await rejection(hostExec('echo', undefined, undefined, options()))).message).toBe(
      'exec args: expected an array of at most 1000 strings, got undefined',
    )
    expect((await rejection(exec('echo', ['a', 2]))).message).toBe(
      'exec args[1]: expected a string of at most 65536 characters, got number',
    )
  })

  it('checks the arguments before the permission', async () => {
    expect((await rejection(exec('ls', 'x'))).code).toBe(C.CAPABILITY_FAILED)
  })

  it('refuses options that are not an object', async () => {
    expect((await rejection(exec('echo', [], 'fast'))).message).toBe(
      'exec options: expected an object, got "fast"',
    )
    expect((await exec('echo', ['x'], null)).stdout).toBe('x\n')
  })
})

describe('cwd', () => {
  it('runs in a folder inside the read grant, resolved through symlinks', async () => {
    expect((await exec('pwd', [], { cwd: granted })).stdout).toBe(`${granted}\n`)
    expect((await exec('pwd', [], { cwd: join(granted, 'link') })).stdout).toBe(`${join(granted, 'sub')}\n`)
  })

  it('refuses a folder outside the read grant, as written or through a symlink, before anything runs', async () => {
    const marker = join(outside, 'ran')
    for (const cwd of [outside, `${granted}/../outside`, join(granted, 'escape'), '/']) {
      expect(await rejection(exec('sh', ['-c', `touch ${marker}`], { cwd })), cwd).toMatchObject({
        code: C.PERMISSION_DENIED,
        data: { permission: 'fs.read' },
      })
    }
    expect(existsSync(marker)).toBe(false)
  })

  it('refuses a cwd that is not an absolute path', async () => {
    expect((await rejection(exec('pwd', [], { cwd: 5 }))).message).toBe(
      'exec options.cwd: expected a non-empty string of at most 4096 characters, got number',
    )
    expect((await rejection(exec('pwd', [], { cwd: 'sub' }))).message).toBe(
      'exec options.cwd: expected an absolute path, got "sub"',
    )
  })
})

describe('stdin', () => {
  it('feeds stdin, and closes it at once when there is none', async () => {
    expect((await exec('cat', [], { stdin: 'héllo\n' })).stdout).toBe('héllo\n')
    expect(await exec('cat', [], { stdin: '' })).toMatchObject({ code: 0, stdout: '' })
    // cat waits for the end of its input: it comes at once.
    expect(await exec('cat')).toMatchObject({ code: 0, stdout: '', timedOut: false })
  })

  it('takes stdin of up to limits.inputBytes characters, and refuses one more', async () => {
    const o = options({ limits: { inputBytes: 16 } })
    expect((await exec('cat', [], { stdin: 's'.repeat(16) }, o)).stdout).toBe('s'.repeat(16))
    expect((await rejection(exec('cat', [], { stdin: 's'.repeat(17) }, o))).message).toBe(
      `exec options.stdin: expected a string of at most 16 characters, got "${'s'.repeat(17)}"`,
    )
  })

  it('survives a command that exits without reading its input', async () => {
    // More than a pipe holds: the write fails (EPIPE) once the command is gone.
    const r = await exec('true', [], { stdin: 'x'.repeat(1024 * 1024) })
    expect(r).toMatchObject({ code: 0, timedOut: false })
  })
})

describe('output', () => {
  const small = options({ limits: { execOutputBytes: 8 } })

  it('keeps stdout and stderr up to execOutputBytes each, and says where it cut', async () => {
    expect((await exec('echo', ['1234567'], undefined, small)).stdout).toBe('1234567\n')
    expect(await exec('sh', ['-c', 'echo 12345678; echo abcdefghij >&2'], undefined, small)).toMatchObject({
      stdout: '12345678\n[truncated at 8 bytes]',
      stderr: 'abcdefgh\n[truncated at 8 bytes]',
    })
    // Cut across several writes: what came first is kept, and a write after the limit
    // was reached exactly is cut too.
    expect(
      (await exec('sh', ['-c', 'printf 123; printf 456; printf 789; printf 0'], undefined, small)).stdout,
    ).toBe('12345678\n[truncated at 8 bytes]')
    expect((await exec('sh', ['-c', 'printf 12345678; sleep 0.1; printf 9'], undefined, small)).stdout).toBe(
      '12345678\n[truncated at 8 bytes]',
    )
  })

  it('decodes output as UTF-8', async () => {
    expect((await exec('echo', ['héllo ✓'])).stdout).toBe('héllo ✓\n')
  })
})

describe('timeouts and stopping', () => {
  it('kills a command past options.timeoutMs with SIGTERM and says so', async () => {
    expect(await exec('sleep', ['10'], { timeoutMs: 100 })).toEqual({
      code: null,
      signal: 'SIGTERM',
      stdout: '',
      stderr: '',
      timedOut: true,
    })
  })

  it('caps options.timeoutMs by limits.execTimeoutMs', async () => {
    const o = options({ limits: { execTimeoutMs: 100 } })
    expect(await exec('sleep', ['10'], { timeoutMs: 60_000 }, o)).toMatchObject({
      signal: 'SIGTERM',
      timedOut: true,
    })
    expect(await exec('sleep', ['10'], undefined, o)).toMatchObject({ timedOut: true })
  })

  it("caps it by the call's deadline, even one already past", async () => {
    expect(
      await exec('sleep', ['10'], { timeoutMs: 60_000 }, options({ deadline: Date.now() + 100 })),
    ).toMatchObject({ signal: 'SIGTERM', timedOut: true })
    expect(await exec('sleep', ['10'], undefined, options({ deadline: Date.now() - 1_000 }))).toMatchObject({
      timedOut: true,
    })
  })

  it('accepts timeoutMs from 1 ms to 24 h, and refuses others', async () => {
    expect(await exec('echo', ['x'], { timeoutMs: 24 * 3600_000 })).toMatchObject({
      code: 0,
      timedOut: false,
    })
    // 1 ms is accepted (whether `true` finishes within it is the machine's business).
    await expect(exec('true', [], { timeoutMs: 1 })).resolves.toMatchObject({ stdout: '' })
    for (const timeoutMs of [0, 24 * 3600_000 + 1, -5, Number.NaN, '100']) {
      expect((await rejection(exec('echo', [], { timeoutMs }))).message, String(timeoutMs)).toMatch(
        /^exec options\.timeoutMs: expected a number from 1 to 86400000, got /,
      )
    }
  })

  it('ends the command when the call ends, not at its timeout, and then stops listening', async () => {
    const stop = new AbortController()
    const o = options({ signal: stop.signal })
    const seconds = uniqueSeconds(20)
    const running = exec('sleep', [seconds], undefined, o)
    await waitForProcess(['sleep', seconds])
    stop.abort()
    expect(await running).toMatchObject({ code: null, signal: 'SIGTERM', timedOut: false })
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0)
  })

  it('starts nothing once the call was stopped', async () => {
    const stop = new AbortController()
    stop.abort()
    const seconds = uniqueSeconds(20)
    const err = await exec('sleep', [seconds], undefined, options({ signal: stop.signal })).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toMatchObject({
      code: C.CAPABILITY_FAILED,
      message: 'exec sleep: the call was stopped; not started',
      retryable: true,
    })
    expect(await findProcesses(['sleep', seconds])).toEqual([])
  })

  it("kills the command's whole process group, not only the command", async () => {
    const stop = new AbortController()
    const seconds = uniqueSeconds(30)
    const running = exec(
      'sh',
      ['-c', `sleep ${seconds} >/dev/null 2>&1 & wait`],
      undefined,
      options({ signal: stop.signal }),
    )
    await waitForProcess(['sleep', seconds])
    stop.abort()
    await running
    expect(await gone(['sleep', seconds])).toBe(true)
  })

  it('kills a command that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const stop = new AbortController()
    const ready = join(root, `ready-${randomInt(1e6)}`)
    const script = `process.on('SIGTERM', () => {}); require('fs').writeFileSync(${JSON.stringify(ready)}, ''); setInterval(() => {}, 1000)`
    const running = exec('node', ['-e', script], undefined, options({ signal: stop.signal }))
    // Stop only once it ignores SIGTERM.
    const end = Date.now() + 10_000
    while (!existsSync(ready) && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
    stop.abort()
    expect(await running).toMatchObject({ code: null, signal: 'SIGKILL', timedOut: false })
  })
})
