// Hostile exec environments: a command's environment is built from names on an allow list
// (declared in permissions.env AND granted), and loader and interpreter hooks are never
// passed, even when an attacker's manifest declares a pattern covering them and a careless
// operator grants it. Each of these turned a granted command into other code, or made it
// write outside the fs grant, when only PATH, LD_PRELOAD, LD_LIBRARY_PATH and NODE_OPTIONS
// were refused.
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxErrorCodes as C, createSandbox, type Sandbox } from '../src/index.ts'
import { buildFixture, ids, manifest } from './helpers/build-fixture.ts'

// Patterns that cover every vector below: what a hostile manifest declares and a careless
// operator grants as it is.
const BROAD = ['CI', 'MY_*', 'L*', 'B*', 'G*', 'P*', 'E*', 'N*', 'H*', 'S*', 'R*', 'J*', 'O*']
const COMMANDS = ['env', 'bash', 'sh', 'perl', 'python3', 'git', 'iconv']

let sandbox: Sandbox
let root: string
/** Outside every grant: nothing may appear here. */
let outside: string
let script: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'stavily-hostile-env-'))
  outside = join(root, 'outside')
  await mkdir(outside)
  script = join(root, 'hook.sh')
  await writeFile(script, `touch ${join(outside, 'bash-env-ran')}\n`)
  await chmod(script, 0o755)
  sandbox = await createSandbox()
  await sandbox.load({
    manifest: manifest('caps', { permissions: { exec: COMMANDS, env: BROAD } }),
    grants: { exec: COMMANDS, env: BROAD },
    bundle: await buildFixture('caps'),
    limits: { execTimeoutMs: 5_000 },
  })
  await sandbox.load({ manifest: manifest('echo'), bundle: await buildFixture('echo') })
})
afterAll(async () => {
  await sandbox?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

const exec = (command: string, args: string[], env: Record<string, string>) =>
  sandbox.invoke('caps', { ...ids(), input: { op: 'exec', command, args, options: { env } } })

describe('loader and interpreter hooks are never passed, even when declared and granted', () => {
  it.each<[string, string, string[], Record<string, string>]>([
    ['LD_DEBUG_OUTPUT', 'env', [], { LD_DEBUG_OUTPUT: '<outside>/ld-debug', LD_DEBUG: 'files' }],
    ['BASH_ENV', 'bash', ['-c', 'true'], { BASH_ENV: '<script>' }],
    ['ENV', 'sh', ['-i', '-c', 'true'], { ENV: '<script>' }],
    ['LD_AUDIT', 'env', [], { LD_AUDIT: '<outside>/audit.so' }],
    ['LD_PRELOAD', 'env', [], { LD_PRELOAD: '<outside>/x.so' }],
    ['GCONV_PATH', 'iconv', ['-f', 'UTF-8', '-t', 'X'], { GCONV_PATH: '<outside>' }],
    ['GLIBC_TUNABLES', 'env', [], { GLIBC_TUNABLES: 'glibc.malloc.check=3' }],
    ['PERL5OPT', 'perl', ['-e', '1'], { PERL5OPT: '-Mstrict' }],
    ['PERL5LIB', 'perl', ['-e', '1'], { PERL5LIB: '<outside>' }],
    ['PYTHONSTARTUP', 'python3', ['-c', 'pass'], { PYTHONSTARTUP: '<script>' }],
    ['PYTHONPATH', 'python3', ['-c', 'pass'], { PYTHONPATH: '<outside>' }],
    ['GIT_SSH_COMMAND', 'git', ['ls-remote', 'ssh://x/y'], { GIT_SSH_COMMAND: '<script>' }],
    ['GIT_CONFIG_PARAMETERS', 'git', ['version'], { GIT_CONFIG_PARAMETERS: "'core.pager=<script>'" }],
    ['GIT_PAGER', 'git', ['log'], { GIT_PAGER: '<script>' }],
    ['SYSTEMD_EDITOR', 'env', [], { SYSTEMD_EDITOR: '<script>' }],
    ['SSH_ASKPASS', 'env', [], { SSH_ASKPASS: '<script>' }],
    ['EDITOR', 'env', [], { EDITOR: '<script>' }],
    ['NODE_OPTIONS', 'env', [], { NODE_OPTIONS: '--require <script>' }],
    ['RUBYOPT', 'env', [], { RUBYOPT: '-r<script>' }],
    ['JAVA_TOOL_OPTIONS', 'env', [], { JAVA_TOOL_OPTIONS: '-javaagent:<script>' }],
    ['OPENSSL_CONF', 'env', [], { OPENSSL_CONF: '<script>' }],
    ['HOME', 'git', ['version'], { HOME: '<outside>' }],
    ['PATH', 'env', [], { PATH: '<outside>' }],
  ])('%s is refused, nothing runs, nothing is written', async (vector, command, args, raw) => {
    const env = Object.fromEntries(
      Object.entries(raw).map(([k, v]) => [k, v.replace('<outside>', outside).replace('<script>', script)]),
    )
    await expect(exec(command, args, env)).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      message: expect.stringContaining(`exec options.env.${vector}: permission denied:`),
      data: { permission: 'env', value: vector, reason: 'reserved' },
    })
    expect(await readdir(outside)).toEqual([])
  })

  it('passes only declared and granted names, beside the fixed PATH and LANG; the neighbour still answers', async () => {
    const r = await exec('env', [], { CI: '1', MY_MODE: 'fast', LANGUAGE: 'en' })
    const lines = (r.output as { stdout: string }).stdout.trim().split('\n').sort()
    expect(lines).toEqual([
      'CI=1',
      'LANG=C.UTF-8',
      'LANGUAGE=en',
      'MY_MODE=fast',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ])
    await expect(exec('env', [], { TERM: 'xterm' })).rejects.toMatchObject({
      code: C.PERMISSION_DENIED,
      data: { permission: 'env', value: 'TERM', reason: 'undeclared' },
    })
    const echo = await sandbox.invoke('echo', { ...ids(), input: { text: 'still here' } })
    expect(echo.output).toMatchObject({ text: 'still here' })
  })
})

describe('a reserved name in a manifest or a grant fails the load, naming the field', () => {
  it('refuses a manifest that declares a hook by name', async () => {
    await expect(
      sandbox.load({
        manifest: manifest('declares-hook', { permissions: { exec: ['env'], env: ['CI', 'LD_PRELOAD'] } }),
        bundle: await buildFixture('caps'),
      }),
    ).rejects.toMatchObject({
      code: C.MANIFEST_INVALID,
      message: expect.stringContaining('stavily.permissions.env[1]: "LD_PRELOAD" is reserved'),
    })
  })

  it('refuses a grant of a hook, or of a pattern that only covers hooks', async () => {
    await expect(
      sandbox.load({
        manifest: manifest('grants-hook', { permissions: { exec: ['env'], env: ['CI'] } }),
        grants: { exec: ['env'], env: ['CI', 'PYTHON*'] },
        bundle: await buildFixture('caps'),
      }),
    ).rejects.toMatchObject({
      code: C.INVALID_ARGUMENT,
      message: expect.stringContaining('grants.env[1]: "PYTHON*" matches only reserved names'),
    })
  })
})
