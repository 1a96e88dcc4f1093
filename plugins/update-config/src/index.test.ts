import { ErrorCodes } from '@stavily/sdk'
import { type ExecCall, testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

// The manifest leaves the validator, the reload command and the folders to the operator
// ("$granted"): the test grant.
const granted = {
  manifest: pkg,
  grants: {
    exec: ['chmod', 'chown', 'mv', 'rm', 'promtool', 'systemctl'],
    fs: { read: ['/etc/app'], write: ['/etc/app'] },
  },
}

const PATH = '/etc/app/app.yml'
const config = {
  path: PATH,
  validate: ['promtool', 'check', 'config', '{file}'],
  reload: ['systemctl', 'reload', 'app'],
}
const ok = () => ({ code: 0 })
const commands = (over: Record<string, (c: ExecCall) => object> = {}) => ({
  chmod: ok,
  chown: ok,
  mv: ok,
  rm: ok,
  promtool: ok,
  systemctl: ok,
  ...over,
})
const summary = (calls: ExecCall[]) => calls.map((c) => `${c.command} ${c.args.join(' ')}`)

describe('update-config', () => {
  it('writes a temporary file beside the target, copies mode and owner, validates it, keeps the previous version, renames, reloads', async () => {
    const { output, calls, files, state } = await testAction(plugin, {
      ...granted,
      config,
      input: { content: 'a: 2\n' },
      files: { [PATH]: 'a: 1\n' },
      exec: commands(),
    })
    const tmp = calls.exec[0]!.args.at(-1)!
    expect(tmp).toMatch(/^\/etc\/app\/\.stavily-[^/]+\.app\.yml$/)
    const prevTmp = calls.exec[3]!.args.at(-1)!
    expect(summary(calls.exec)).toEqual([
      `chmod --reference=${PATH} -- ${tmp}`,
      `chown --reference=${PATH} -- ${tmp}`,
      `promtool check config ${tmp}`,
      `chmod --reference=${PATH} -- ${prevTmp}`,
      `chown --reference=${PATH} -- ${prevTmp}`,
      `mv -f -- ${prevTmp} ${PATH}.previous`,
      `mv -f -- ${tmp} ${PATH}`,
      'systemctl reload app',
    ])
    expect(files[tmp]).toBe('a: 2\n')
    expect(files[prevTmp]).toBe('a: 1\n')
    expect(output).toEqual({
      path: PATH,
      changed: true,
      created: false,
      previous: `${PATH}.previous`,
      validated: true,
      reloaded: true,
      diff: `--- ${PATH}\n+++ ${PATH}\n@@ -1 +1 @@\n-a: 1\n+a: 2\n`,
      diffTruncated: false,
      durationMs: expect.any(Number),
    })
    // The reload finished: nothing is left pending.
    expect(state).toEqual({})
  })

  it('does nothing when the file already holds the content: no write, no validate, no reload', async () => {
    const { output, calls } = await testAction(plugin, {
      ...granted,
      config,
      input: { content: 'a: 1\n' },
      files: { [PATH]: 'a: 1\n' },
      exec: commands(),
    })
    expect(calls.exec).toEqual([])
    expect(calls.fs.filter((c) => c.op === 'writeText')).toEqual([])
    expect(output).toMatchObject({ changed: false, reloaded: false, diff: '' })
  })

  it('a retry of the same step finishes the reload an earlier attempt did not; another step does not reload', async () => {
    const retry = {
      ...granted,
      config,
      input: { content: 'a: 2\n' },
      files: { [PATH]: 'a: 2\n', [`${PATH}.previous`]: 'a: 1\n' },
      state: { [`reload-pending:${PATH}`]: 'step-1' },
      exec: commands(),
    }
    const { output, calls, state } = await testAction(plugin, { ...retry, idempotencyKey: 'step-1' })
    expect(summary(calls.exec)).toEqual(['systemctl reload app'])
    expect(output).toMatchObject({ changed: false, reloaded: true })
    expect(state).toEqual({})
    const other = await testAction(plugin, { ...retry, idempotencyKey: 'step-2' })
    expect(other.calls.exec).toEqual([])
  })

  it('rolls back and reloads the previous content when the reload fails', async () => {
    let reloads = 0
    const failed = await testAction(plugin, {
      ...granted,
      config: { path: PATH, reload: ['systemctl', 'reload', 'app'], preserveOwner: false },
      input: { content: 'a: 2\n' },
      files: { [PATH]: 'a: 1\n' },
      exec: commands({
        systemctl: () => {
          reloads++
          return reloads === 1 ? { code: 1, stderr: 'Job for app.service failed.\n' } : { code: 0 }
        },
      }),
    }).catch((e: unknown) => e)
    expect(failed).toMatchObject({
      code: 'UPDATE_CONFIG_RELOAD_FAILED',
      message:
        'reload (systemctl) exited with code 1: Job for app.service failed.; the previous content was put back',
    })
    expect(reloads).toBe(2)
  })

  it('refuses content the validator rejects without installing it', async () => {
    const failed = await testAction(plugin, {
      ...granted,
      config,
      input: { content: 'a: [\n' },
      files: { [PATH]: 'a: 1\n' },
      exec: commands({ promtool: () => ({ code: 1, stderr: 'FAILED: parsing YAML\n' }) }),
    }).catch((e: unknown) => e)
    expect(failed).toMatchObject({
      code: 'UPDATE_CONFIG_INVALID',
      message:
        'validate (promtool) exited with code 1: FAILED: parsing YAML; the new content was not installed',
      retryable: false,
    })
  })

  it('refuses bad config and paths outside the grant, naming the field', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ path: 'app.yml' }, 'config.path', ErrorCodes.INVALID_CONFIG],
      [{ path: PATH, validate: [] }, 'config.validate', ErrorCodes.INVALID_CONFIG],
      [{ path: PATH, mode: '777x' }, 'config.mode', ErrorCodes.INVALID_CONFIG],
      [{ path: PATH, shell: true }, 'config.shell', ErrorCodes.INVALID_CONFIG],
    ]
    for (const [c, field, code] of cases) {
      await expect(
        testAction(plugin, { ...granted, config: c as never, input: { content: '' }, exec: commands() }),
        field,
      ).rejects.toMatchObject({ code, message: expect.stringContaining(field) })
    }
    await expect(
      testAction(plugin, {
        ...granted,
        config: { path: '/root/.ssh/authorized_keys' },
        input: { content: 'k' },
        exec: commands(),
      }),
    ).rejects.toMatchObject({ code: ErrorCodes.PERMISSION_DENIED })
  })
})
