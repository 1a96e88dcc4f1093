// Reports as real runners write them, shared by the unit tests.

// As Node 20's `--test-reporter=junit` writes it (a root without counts, a describe block as
// a nested testsuite, ">" unescaped in attributes).
export const NODE_REPORT = `<?xml version="1.0" encoding="utf-8"?>
<testsuites>
\t<testcase name="adds" time="0.000878" classname="test"/>
\t<testcase name="fails" time="0.000710" classname="test" failure="1 == 2">
\t\t<failure type="testCodeFailure" message="1 == 2">
[Error [ERR_TEST_FAILURE]: 1 == 2] {
  code: 'ERR_TEST_FAILURE',
}
\t\t</failure>
\t</testcase>
\t<testcase name="skipped" time="0.000124" classname="test">
\t\t<skipped type="skipped" message="not now"/>
\t</testcase>
\t<testsuite name="group" time="0.000367" tests="2" failures="1" skipped="0">
\t\t<testcase name="inner ok" time="0.000109" classname="test"/>
\t\t<testcase name="inner &lt;bad> &amp; x" time="0.000085" classname="test" failure="boom &lt;x>">
\t\t\t<failure type="testCodeFailure" message="boom &lt;x>">Error: boom &lt;x></failure>
\t\t</testcase>
\t</testsuite>
\t<!-- tests 5 -->
</testsuites>
`
