import { describe, expect, it } from 'vitest'
import { NODE_REPORT } from '../test/reports.ts'
import { summarizeJunit } from './junit.ts'

// As pytest writes it: one suite with counts, an <error> apart from failures, a message-less failure.
const PYTEST_REPORT = `<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4" time="0.05"><testcase classname="tests.test_app" name="test_ok" time="0.001" /><testcase classname="tests.test_app" name="test_bad" time="0.002"><failure>assert 1 == 2
+  where more</failure></testcase><testcase classname="tests.test_app" name="test_setup" time="0.001"><error message="failed on setup with &quot;KeyError&quot;">trace</error></testcase><testcase classname="tests.test_app" name="test_later" time="0"><skipped type="pytest.skip" message="later" /></testcase></testsuite></testsuites>`

describe('summarizeJunit', () => {
  it("counts Node's report by its test cases, naming failures with their suites", () => {
    expect(summarizeJunit(NODE_REPORT, 50)).toEqual({
      tests: 5,
      passed: 2,
      failed: 2,
      skipped: 1,
      failures: [
        { name: 'fails', classname: 'test', message: '1 == 2' },
        { name: 'group > inner <bad> & x', classname: 'test', message: 'boom <x>' },
      ],
      failuresTruncated: false,
    })
  })

  it("counts pytest's errors as failures and uses a failure's first line when it has no message", () => {
    const s = summarizeJunit(PYTEST_REPORT, 50)
    expect(s).toMatchObject({ tests: 4, passed: 1, failed: 2, skipped: 1 })
    expect(s.failures).toEqual([
      { name: 'pytest > test_bad', classname: 'tests.test_app', message: 'assert 1 == 2' },
      {
        name: 'pytest > test_setup',
        classname: 'tests.test_app',
        message: 'failed on setup with "KeyError"',
      },
    ])
  })

  it('lists at most maxFailures failing tests and says when it left some out', () => {
    const cases = Array.from(
      { length: 7 },
      (_, i) => `<testcase name="t${i}"><failure message="m"/></testcase>`,
    )
    const s = summarizeJunit(`<testsuite name="s">${cases.join('')}</testsuite>`, 3)
    expect(s.failed).toBe(7)
    expect(s.failures.map((f) => f.name)).toEqual(['s > t0', 's > t1', 's > t2'])
    expect(s.failuresTruncated).toBe(true)
  })

  it('refuses a document that is not a JUnit report', () => {
    expect(() => summarizeJunit('<html><body/></html>', 5)).toThrow(
      'the root element is <html>, expected <testsuites> or <testsuite>',
    )
  })
})
