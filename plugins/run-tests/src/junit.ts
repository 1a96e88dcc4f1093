// What a JUnit XML report says: every <testcase>, counted by what it holds (<failure> or
// <error>: failed; <skipped>: skipped; else passed). The counts are computed from the cases,
// never taken from the suites' own tests/failures attributes, which runners fill in
// differently (Node's root has none, pytest counts errors apart, some omit skipped).
import { parseXml, type XmlElement } from './xml.ts'

export type FailedTest = {
  /** Suite names and the test's name, joined with " > ". */
  name: string
  classname: string | null
  /** The failure's message attribute, else the first line of its text. */
  message: string
}

export type JunitSummary = {
  tests: number
  passed: number
  failed: number
  skipped: number
  /** The first `maxFailures` failed tests, in report order. */
  failures: FailedTest[]
  failuresTruncated: boolean
}

/** Longest failure message kept: a line to read in a chat message, not a stack trace. */
const MAX_MESSAGE_CHARS = 500

/** Summarises a JUnit XML report; throws XmlError (with a line) when it is not one. */
export function summarizeJunit(text: string, maxFailures: number): JunitSummary {
  const root = parseXml(text)
  if (root.name !== 'testsuites' && root.name !== 'testsuite') {
    throw new Error(`the root element is <${root.name}>, expected <testsuites> or <testsuite>`)
  }
  const summary: JunitSummary = {
    tests: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    failures: [],
    failuresTruncated: false,
  }
  const visit = (element: XmlElement, suites: string[]) => {
    if (element.name === 'testcase') {
      count(element, suites, summary, maxFailures)
      return
    }
    const named =
      element.name === 'testsuite' && element.attributes.name ? [...suites, element.attributes.name] : suites
    for (const child of element.children) visit(child, named)
  }
  visit(root, [])
  return summary
}

function count(testcase: XmlElement, suites: string[], summary: JunitSummary, maxFailures: number): void {
  summary.tests++
  const failure = testcase.children.find((c) => c.name === 'failure' || c.name === 'error')
  if (failure) {
    summary.failed++
    if (summary.failures.length >= maxFailures) {
      summary.failuresTruncated = true
      return
    }
    const name = testcase.attributes.name ?? '(unnamed)'
    const firstLine = failure.text.trim().split('\n')[0] ?? ''
    summary.failures.push({
      name: [...suites, name].join(' > '),
      classname: testcase.attributes.classname ?? null,
      message: (failure.attributes.message ?? firstLine).slice(0, MAX_MESSAGE_CHARS),
    })
  } else if (testcase.children.some((c) => c.name === 'skipped')) {
    summary.skipped++
  } else {
    summary.passed++
  }
}
