import { ErrorCodes } from '@stavily/sdk'
import { createTestContext, type TestContext, testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import { NODE_REPORT } from '../test/reports.ts'

// The manifest leaves the runner and the folders to the operator ("$granted"): the test grant.
const granted = {
  manifest: pkg,
  grants: {
    exec: ['npm', 'make'],
    env: pkg.stavily.permissions.env,
    fs: { read: ['/srv/app'], write: ['/srv/app'] },
  },
}

import plugin from './index.ts'

const REPORT = '/srv/app/reports/junit.xml'
const config = {
  command: 'npm',
  args: ['test', '--'],
  cwd: '/srv/app',
  env: { CI: 'true' },
  timeoutMs: 60_000,
  junitPath: REPORT,
}
const files = { '/srv/app/': '', [REPORT]: NODE_REPORT }

/** Runs the plugin with a fake `npm` that writes `report` (when given) as a real runner would. */
async function runWith(
  result: { code: number | null; stdout?: string; timedOut?: boolean; signal?: string },
  report: string | undefined,
  input: { args?: string[]; allowFailure?: boolean } = {},
  extra: Record<string, unknown> = {},
) {
  let t: TestContext<unknown> | undefined
  t = createTestContext({
    kind: 'action',
    ...granted,
    config: { ...config, ...extra },
    files,
    exec: {
      npm: async () => {
        if (report !== undefined)
          await (t!.ctx as { fs: { writeText: (p: string, s: string) => Promise<void> } }).fs.writeText(
            REPORT,
            report,
          )
        return result
      },
    },
  })
  const output = await plugin.run(t.ctx as never, input)
  return { output, recorded: t.recorded() }
}

describe('run-tests', () => {
  it('clears the report, runs the command, and returns the counts and failing names', async () => {
    const { output, recorded } = await runWith({ code: 1, stdout: 'ℹ fail 2\n' }, NODE_REPORT, {
      args: ['test/unit'],
      allowFailure: true,
    })
    expect(recorded.calls.fs[0]).toEqual({ op: 'writeText', path: REPORT, text: '' })
    expect(recorded.calls.exec).toEqual([
      {
        command: 'npm',
        args: ['test', '--', 'test/unit'],
        options: { timeoutMs: 60_000, cwd: '/srv/app', env: { CI: 'true' } },
      },
    ])
    expect(output).toMatchObject({
      passed: false,
      code: 1,
      timedOut: false,
      stdoutTail: 'ℹ fail 2\n',
      reportProblem: null,
      report: {
        tests: 5,
        passed: 2,
        failed: 2,
        skipped: 1,
        failures: [{ name: 'fails' }, { name: 'group > inner <bad> & x', message: 'boom <x>' }],
      },
    })
  })

  it('fails the step with RUN_TESTS_FAILED naming the failing tests, not retryable', async () => {
    await expect(runWith({ code: 1 }, NODE_REPORT)).rejects.toMatchObject({
      code: 'RUN_TESTS_FAILED',
      message: '2 of 5 tests failed: fails; group > inner <bad> & x',
      retryable: false,
      data: { report: { failed: 2 } },
    })
  })

  it('never reads an earlier run as this one: a command that writes no report gets reportProblem', async () => {
    const { output } = await runWith({ code: 0 }, undefined)
    expect(output).toMatchObject({
      passed: true,
      report: null,
      reportProblem: `the command wrote no report at ${REPORT}`,
    })
  })

  it('reports a file that is not JUnit XML as a problem, with its line', async () => {
    const { output } = await runWith({ code: 0 }, '<testsuites>\n<testcase>\n</testsuites>')
    expect(output.report).toBeNull()
    expect(output.reportProblem).toBe(
      `${REPORT} is not a JUnit XML report: line 3: closing tag </testsuites> does not match <testcase>`,
    )
  })

  it('a timeout is retryable; exit 0 with a failed test in the report is still a failure', async () => {
    await expect(runWith({ code: null, signal: 'SIGTERM', timedOut: true }, undefined)).rejects.toMatchObject(
      {
        code: 'RUN_TESTS_FAILED',
        message: 'npm timed out',
        retryable: true,
      },
    )
    await expect(runWith({ code: 0 }, NODE_REPORT)).rejects.toMatchObject({ code: 'RUN_TESTS_FAILED' })
  })

  it('keeps the end of the output', async () => {
    const { output } = await runWith(
      { code: 0, stdout: `${'x'.repeat(5000)}END` },
      undefined,
      {},
      { tailChars: 10 },
    )
    expect(output.stdoutTail).toBe('xxxxxxxEND')
  })

  it('without junitPath, reports the exit code only', async () => {
    const { output } = await testAction(plugin, {
      ...granted,
      config: { command: 'make', args: ['check'] },
      input: {},
      exec: { make: { code: 0, stdout: 'ok\n' } },
    })
    expect(output).toMatchObject({
      passed: true,
      code: 0,
      report: null,
      reportProblem: null,
      stdoutTail: 'ok\n',
    })
  })

  it('refuses input args starting with "-", and a report path outside the grant before running anything', async () => {
    await expect(
      testAction(plugin, {
        ...granted,
        config: { command: 'npm' },
        input: { args: ['--inspect'] },
        exec: { npm: {} },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('input.args[0]'),
    })
    const denied = await testAction(plugin, {
      ...granted,
      config: { command: 'npm', junitPath: '/etc/junit.xml' },
      input: {},
      exec: { npm: {} },
    }).catch((e: unknown) => e)
    expect(denied).toMatchObject({ code: ErrorCodes.PERMISSION_DENIED, data: { permission: 'fs.write' } })
  })

  it('passes only declared and granted environment names', async () => {
    await expect(
      testAction(plugin, {
        ...granted,
        config: { command: 'npm', env: { NODE_OPTIONS: '--require /tmp/x.js' } },
        input: {},
        exec: { npm: {} },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'env', reason: 'reserved' },
    })
  })

  it('rejects bad config, naming the field', async () => {
    const configs: [Record<string, unknown>, string][] = [
      [{}, 'config.command'],
      [{ command: 'npm test' }, 'config.command'],
      [{ command: 'npm', junitPath: 'junit.xml' }, 'config.junitPath'],
      [{ command: 'npm', maxFailures: -1 }, 'config.maxFailures'],
      [{ command: 'npm', shell: true }, 'config.shell'],
    ]
    for (const [c, field] of configs) {
      await expect(
        testAction(plugin, { ...granted, config: c as never, input: {}, exec: { npm: {} } }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(field) })
    }
  })
})
