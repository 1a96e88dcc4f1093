// @stavily/sdk/testing: the harness plugin authors use in their unit tests. Runs in Node.
// Capabilities go through the same permission guard and schema checks as the agent's
// sandbox (@stavily/sdk/manifest), so a test fails the way production would.
export { createTestContext, type TestContext, type TestContextOptions } from './create-test-context.ts'
export type {
  ExecCall,
  FakeExec,
  FakeExecResult,
  FakeFetch,
  FakeResponse,
  FakeSmtp,
  FakeSql,
  FetchCall,
  HarnessOptions,
  PartialPermissions,
  SmtpCall,
  SqlCall,
} from './options.ts'
export type { Calls, FsCall, LogRecord, Recorded, StateCall } from './recorder.ts'
export {
  type ActionTestOptions,
  type ActionTestResult,
  type OutputTestOptions,
  type OutputTestResult,
  type SensorTestOptions,
  type SensorTestResult,
  testAction,
  testOutput,
  testSensor,
} from './run-plugin.ts'
