import type { ExecResult } from '../context.ts'
import { ErrorCodes, PluginError } from '../errors.ts'
import type { PermissionGuard } from '../manifest/permission-guard.ts'
import { invalid, optionalNumber, optionalObject, string, stringRecord } from './args.ts'
import type { ExecCall, FakeExecResult, HarnessOptions } from './options.ts'
import type { Calls } from './recorder.ts'

/** `ctx.exec` of the harness: command and cwd through the guard, then the fake result. */
export function fakeExec(guard: PermissionGuard, fakes: HarnessOptions['exec'], calls: Calls) {
  return async (command: unknown, args: unknown, options?: unknown): Promise<ExecResult> => {
    const name = guard.exec(string('exec command', command))
    // As on an agent, a missing argument list is an empty one.
    const list = args === undefined ? [] : args
    if (!Array.isArray(list)) throw invalid('exec args', 'an array of strings', args)
    const argv = list.map((arg, i) => string(`exec args[${i}]`, arg, { empty: true }))
    const raw = optionalObject('exec options', options)
    const call: ExecCall = { command: name, args: argv, options: {} }
    const timeoutMs = optionalNumber('exec options.timeoutMs', raw.timeoutMs)
    if (timeoutMs !== undefined) call.options.timeoutMs = timeoutMs
    // The sandbox runs a command in a folder the plugin may read; the same rule here.
    if (raw.cwd !== undefined) call.options.cwd = guard.fsRead(string('exec options.cwd', raw.cwd))
    if (raw.stdin !== undefined) call.options.stdin = string('exec options.stdin', raw.stdin, { empty: true })
    if (raw.env !== undefined) {
      const env = stringRecord('exec options.env', raw.env)
      // The agent's rule: each name declared and granted (the harness's `grants`), and never
      // a loader or interpreter hook.
      for (const name of Object.keys(env)) guard.env(name)
      call.options.env = env
    }
    calls.exec.push(call)
    const fake = fakes?.[name]
    if (fake === undefined) {
      throw new PluginError(
        ErrorCodes.TEST_FAKE_MISSING,
        `harness: no fake result for command "${name}"; pass exec: { "${name}": { code: 0, stdout: "..." } }`,
        { data: { command: name } },
      )
    }
    const result: FakeExecResult =
      typeof fake === 'function'
        ? await fake({ ...call, args: [...argv], options: { ...call.options } })
        : fake
    return {
      code: result.code === undefined ? (result.signal ? null : 0) : result.code,
      signal: result.signal ?? null,
      stdout: result.stdout ?? '',
      stderr: result.stderr ?? '',
      timedOut: result.timedOut ?? false,
    }
  }
}
