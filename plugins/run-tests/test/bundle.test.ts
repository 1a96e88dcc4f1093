// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts) against a real test runner: `node --test` on a small project with
// passing, failing and skipped tests, writing a JUnit report.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

// Under a folder the manifest declares (/tmp/stavily); the grants below narrow it to this one.
const project = join('/tmp/stavily', `run-tests-${process.pid}-${Date.now()}`)
const grants = { exec: ['node'], env: ['CI'], fs: { read: [project], write: [project] } }

beforeAll(() => {
  mkdirSync(join(project, 'test'), { recursive: true })
  writeFileSync(
    join(project, 'test', 'math.test.mjs'),
    `import test, { describe, it } from 'node:test'
import assert from 'node:assert/strict'
test('adds', () => assert.equal(1 + 1, 2))
test('reads CI from the environment', () => assert.equal(process.env.CI, 'true'))
test('later', { skip: 'not yet' }, () => {})
describe('strings', () => {
  it('upper-cases', () => assert.equal('a'.toUpperCase(), 'A'))
  it('pads <left> & right', () => assert.equal('a'.padStart(3), 'a'))
})
`,
  )
  writeFileSync(
    join(project, 'test', 'ok.test.mjs'),
    `import test from 'node:test'\ntest('passes', () => {})\n`,
  )
})
afterAll(() => rmSync(project, { recursive: true, force: true }))

const nodeTest = (files: string[]) => ({
  command: 'node',
  args: [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=junit',
    `--test-reporter-destination=${join(project, 'junit.xml')}`,
    ...files,
  ],
  cwd: project,
  env: { CI: 'true' },
  junitPath: join(project, 'junit.xml'),
  timeoutMs: 15_000,
})

describe('run-tests bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'action')

  it('runs node --test in the sandbox and reports counts and the failing test from its JUnit report', async () => {
    await inSandbox(import.meta.url, pkg, grants, async (sandbox, name) => {
      const failing = sandbox.invoke(name, {
        ...callIds(),
        config: nodeTest(['test/math.test.mjs', 'test/ok.test.mjs']),
        input: {},
      })
      await expect(failing).rejects.toMatchObject({
        code: 'RUN_TESTS_FAILED',
        message: '1 of 6 tests failed: strings > pads <left> & right',
        retryable: false,
      })
      const r = await sandbox.invoke(name, {
        ...callIds(),
        config: { ...nodeTest(['test/math.test.mjs', 'test/ok.test.mjs']), allowFailure: true },
        input: {},
      })
      const output = r.output as Record<string, unknown>
      expect(output).toMatchObject({
        passed: false,
        code: 1,
        timedOut: false,
        reportProblem: null,
        report: {
          tests: 6,
          passed: 4,
          failed: 1,
          skipped: 1,
          failures: [{ name: 'strings > pads <left> & right', classname: 'test' }],
          failuresTruncated: false,
        },
      })
      expect(output.stdoutTail).toContain('✖ pads <left> & right')
      expect(output.durationMs).toBeGreaterThan(0)

      const passing = await sandbox.invoke(name, {
        ...callIds(),
        config: nodeTest(['test/ok.test.mjs']),
        input: {},
      })
      expect(passing.output).toMatchObject({
        passed: true,
        code: 0,
        report: { tests: 1, passed: 1, failed: 0, skipped: 0, failures: [] },
      })
    })
  }, 60_000)

  it('is denied a command or a project folder the operator did not grant', async () => {
    await inSandbox(import.meta.url, pkg, { ...grants, exec: ['npm'] }, async (sandbox, name) => {
      await expect(
        sandbox.invoke(name, { ...callIds(), config: nodeTest(['test/ok.test.mjs']), input: {} }),
      ).rejects.toMatchObject({ code: 'STAVILY_ERR_PERMISSION_DENIED' })
    })
    await inSandbox(
      import.meta.url,
      pkg,
      { ...grants, fs: { read: ['/tmp/stavily/elsewhere'], write: [project] } },
      async (sandbox, name) => {
        await expect(
          sandbox.invoke(name, { ...callIds(), config: nodeTest(['test/ok.test.mjs']), input: {} }),
        ).rejects.toMatchObject({ code: 'STAVILY_ERR_PERMISSION_DENIED', data: { permission: 'fs.read' } })
      },
    )
  }, 60_000)
})
