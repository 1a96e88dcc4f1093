import { describe, expect, it } from 'vitest'
import { defineAction, ErrorCodes, isPluginError, Type } from '../index.ts'
import { testAction } from '../testing/index.ts'
import { createPermissionGuard, envEntryProblem, reservedEnvReason, validateManifest } from './index.ts'

const pkg = (permissions: Record<string, unknown>, kind = 'action') => ({
  name: 'env-plugin',
  version: '1.0.0',
  stavily: { kind, entry: 'src/index.ts', sdk: '^1.0.0', permissions },
})

function thrown(fn: () => unknown): { code?: string; message: string; data?: unknown } {
  try {
    fn()
  } catch (err) {
    return err as { code?: string; message: string; data?: unknown }
  }
  throw new Error('expected a throw')
}

describe('reserved environment names', () => {
  it.each([
    'LD_PRELOAD',
    'LD_AUDIT',
    'LD_DEBUG_OUTPUT',
    'LD_LIBRARY_PATH',
    'DYLD_INSERT_LIBRARIES',
    'BASH_ENV',
    'BASH_FUNC_ls',
    'ENV',
    'GCONV_PATH',
    'GLIBC_TUNABLES',
    'PERL5OPT',
    'PERL5LIB',
    'PYTHONSTARTUP',
    'PYTHONPATH',
    'NODE_OPTIONS',
    'RUBYOPT',
    'GIT_SSH_COMMAND',
    'GIT_CONFIG_GLOBAL',
    'SYSTEMD_EDITOR',
    'GIT_PAGER',
    'SSH_ASKPASS',
    'EDITOR',
    'PAGER',
    'PATH',
    'HOME',
    'npm_config_script_shell',
    'ld_preload',
  ])('%s is never passed', (name) => {
    expect(reservedEnvReason(name)).toBeTypeOf('string')
  })

  it.each(['CI', 'LANG', 'LC_ALL', 'TZ', 'MY_APP_MODE', 'HTTP_PROXY', 'DOCKER_HOST', 'TMPDIR'])(
    '%s may be passed when declared and granted',
    (name) => {
      expect(reservedEnvReason(name)).toBeUndefined()
    },
  )
})

describe('permissions.env in the manifest', () => {
  it('accepts names and prefix patterns', () => {
    const result = validateManifest(pkg({ exec: ['echo'], env: ['CI', 'MY_APP_*', 'L*'] }))
    expect(result).toMatchObject({ ok: true, manifest: { permissions: { env: ['CI', 'MY_APP_*', 'L*'] } } })
  })

  it('leaves env out when not declared, so manifests without it keep their shape', () => {
    const result = validateManifest(pkg({ exec: ['echo'] }))
    expect(result.ok && 'env' in result.manifest.permissions).toBe(false)
  })

  it('names each bad entry by its field, with every problem at once', () => {
    const result = validateManifest(pkg({ env: ['LD_PRELOAD', 'MY-APP', 'PYTHON*', '*', 5, 'CI', 'CI'] }))
    expect(result.ok).toBe(false)
    const problems = result.ok ? [] : result.problems
    expect(problems).toEqual([
      {
        path: 'stavily.permissions.env[0]',
        message: expect.stringMatching(/"LD_PRELOAD" is reserved \(a dynamic loader hook/),
      },
      {
        path: 'stavily.permissions.env[1]',
        message: expect.stringContaining('"MY-APP" is not a valid name'),
      },
      {
        path: 'stavily.permissions.env[2]',
        message: expect.stringContaining('"PYTHON*" matches only reserved names'),
      },
      { path: 'stavily.permissions.env[3]', message: expect.stringContaining('"*" is not a valid name') },
      { path: 'stavily.permissions.env[4]', message: expect.stringContaining('got number') },
      {
        path: 'stavily.permissions.env[6]',
        message: expect.stringContaining('duplicate of stavily.permissions.env[5]'),
      },
    ])
  })

  it('refuses env on an output (it runs no commands); a sensor, which may run granted commands, may declare it', () => {
    const result = validateManifest(pkg({ env: ['CI'] }, 'output'))
    expect(result).toMatchObject({
      ok: false,
      problems: [
        {
          path: 'stavily.permissions.env',
          message: expect.stringContaining('only actions and sensors may declare env'),
        },
      ],
    })
    expect(validateManifest(pkg({ env: ['CI'], exec: ['git'] }, 'sensor'))).toMatchObject({ ok: true })
  })

  it('explains a reserved entry', () => {
    expect(envEntryProblem('GIT_SSH_COMMAND')).toMatch(
      /commands never receive it, whatever is declared or granted/,
    )
  })
})

describe('the permission guard', () => {
  const declared = {
    net: [],
    exec: ['echo'],
    secrets: [],
    fs: { read: [], write: [] },
    env: ['CI', 'MY_*', 'L*'],
  }
  const guard = createPermissionGuard(declared, { ...declared, env: ['CI', 'MY_*', 'L*'] })

  it('allows a declared and granted name, also through a pattern', () => {
    expect(guard.env('CI')).toBe('CI')
    expect(guard.env('MY_MODE')).toBe('MY_MODE')
    expect(guard.env('LANG')).toBe('LANG')
  })

  it('refuses a reserved name even when a declared and granted pattern covers it', () => {
    for (const name of ['LD_AUDIT', 'LD_DEBUG_OUTPUT', 'MY_EDITOR', 'LESSOPEN']) {
      expect(thrown(() => guard.env(name))).toMatchObject({
        code: ErrorCodes.PERMISSION_DENIED,
        message: expect.stringContaining(`exec options.env.${name}: permission denied:`),
        data: { permission: 'env', value: name, reason: 'reserved' },
      })
    }
  })

  it('refuses names not declared, or declared but not granted', () => {
    expect(thrown(() => guard.env('OTHER')).data).toEqual({
      permission: 'env',
      value: 'OTHER',
      reason: 'undeclared',
    })
    const narrow = createPermissionGuard(declared, { ...declared, env: ['CI'] })
    expect(thrown(() => narrow.env('MY_MODE'))).toMatchObject({
      message: expect.stringContaining('declared in permissions.env but not granted'),
      data: { reason: 'ungranted' },
    })
    expect(thrown(() => guard.env('A=B')).code).toBe(ErrorCodes.INVALID_ARGUMENT)
  })

  it('refuses a reserved name in a grant, naming the field', () => {
    expect(
      thrown(() => createPermissionGuard(declared, { ...declared, env: ['BASH_ENV'] })).message,
    ).toContain('grants.env[0]')
  })
})

describe('the test harness', () => {
  const runs = defineAction({
    input: Type.Object({ env: Type.Record(Type.String(), Type.String()) }),
    output: Type.Object({ code: Type.Union([Type.Integer(), Type.Null()]) }),
    async run(ctx, input) {
      const r = await ctx.exec('make', [], { env: input.env })
      return { code: r.code }
    },
  })
  const base = { permissions: { exec: ['make'], env: ['CI', 'BUILD_*'] }, exec: { make: { code: 0 } } }

  it('passes declared and granted names to the fake', async () => {
    const result = await testAction(runs, { ...base, input: { env: { CI: '1', BUILD_MODE: 'fast' } } })
    expect(result.calls.exec[0]?.options.env).toEqual({ CI: '1', BUILD_MODE: 'fast' })
  })

  it('applies the agent rule with a test grant: reserved, undeclared and ungranted names fail', async () => {
    const fail = async (options: {
      input: { env: Record<string, string> }
      grants?: Record<string, string[]>
    }) => {
      try {
        await testAction(runs, { ...base, ...options })
      } catch (err) {
        if (isPluginError(err)) return err
        throw err
      }
      throw new Error('expected a rejection')
    }
    expect((await fail({ input: { env: { BUILD_EDITOR: 'vim' } } })).data).toMatchObject({
      reason: 'reserved',
    })
    expect((await fail({ input: { env: { HOME: '/tmp' } } })).data).toMatchObject({ reason: 'reserved' })
    expect((await fail({ input: { env: { OTHER: 'x' } } })).data).toMatchObject({ reason: 'undeclared' })
    const grants = { exec: ['make'], env: ['CI'] }
    expect((await fail({ grants, input: { env: { BUILD_MODE: 'x' } } })).data).toMatchObject({
      reason: 'ungranted',
    })
  })
})
