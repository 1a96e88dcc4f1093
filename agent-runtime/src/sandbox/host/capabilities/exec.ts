// ctx.exec on the host (actions only): no shell, an argv array, a command allowed by the
// manifest AND the operator, a fixed PATH and an environment built from nothing but names on
// an allow list (declared in permissions.env AND granted; loader and interpreter hooks never),
// a timeout that kills, and capped stdout/stderr.
import { spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { posix } from 'node:path'
import type { PermissionGuard } from '@stavily/sdk/manifest'
import { EXEC_DEFAULTS, type PluginLimits } from '../../../defaults.ts'
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import { bad, optionalNumber, plainObject, str, stringRecord } from './args.ts'

const MAX_ARGS = 1000
const MAX_ARG_LENGTH = 64 * 1024

export interface ExecOptions {
  guard: PermissionGuard
  limits: PluginLimits
  signal: AbortSignal
  deadline: number
  /** Checks a cwd against the plugin's fs read permission. */
  checkCwd(path: string): Promise<string>
}

export interface ExecResult {
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
  timedOut: boolean
}

export async function hostExec(
  commandArg: unknown,
  argsArg: unknown,
  optionsArg: unknown,
  o: ExecOptions,
): Promise<ExecResult> {
  const command = str('exec command', commandArg, 4096)
  if (!Array.isArray(argsArg) || argsArg.length > MAX_ARGS)
    throw bad('exec args', `an array of at most ${MAX_ARGS} strings`, argsArg)
  const args = argsArg.map((a, i) => str(`exec args[${i}]`, a, MAX_ARG_LENGTH, { empty: true }))
  const options = plainObject('exec options', optionsArg) ?? {}
  o.guard.exec(command)
  const env = stringRecord('exec options.env', options.env, 100, 32 * 1024)
  // An allow list, not a block list: every name is declared and granted, and none is a hook
  // (LD_*, BASH_ENV, PYTHON*, GIT_*, *_EDITOR, ...) that would run other code in the command.
  // Checked before the command is looked up, so a refusal never depends on what is installed.
  for (const name of Object.keys(env)) o.guard.env(name)
  const file = resolveCommand(command)
  const timeoutMs = Math.min(
    optionalNumber('exec options.timeoutMs', options.timeoutMs, 1, 24 * 3600_000) ?? o.limits.execTimeoutMs,
    o.limits.execTimeoutMs,
    Math.max(1, o.deadline - Date.now()),
  )
  const cwd =
    options.cwd === undefined || options.cwd === null
      ? '/'
      : await o.checkCwd(str('exec options.cwd', options.cwd, 4096))
  // A call stopped before this point (or while its cwd was checked) starts nothing: an
  // 'abort' listener added below would never fire on a signal already aborted, and the
  // command would outlive its call until its own timeout.
  if (o.signal.aborted)
    throw sandboxError(
      SandboxErrorCodes.CAPABILITY_FAILED,
      `exec ${command}: the call was stopped; not started`,
      {
        retryable: true,
      },
    )
  const stdin =
    options.stdin === undefined || options.stdin === null
      ? undefined
      : str('exec options.stdin', options.stdin, o.limits.inputBytes, { empty: true })

  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      shell: false,
      cwd,
      env: { PATH: EXEC_DEFAULTS.path, LANG: 'C.UTF-8', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group, so the timeout kills what the command started too.
      detached: true,
    })
    const out = capture(o.limits.execOutputBytes)
    const err = capture(o.limits.execOutputBytes)
    child.stdout.on('data', out.add)
    child.stderr.on('data', err.add)
    child.stdin.on('error', () => {}) // the command may exit without reading its input
    child.stdin.end(stdin)
    let timedOut = false
    const kill = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal)
      } catch {
        // Already gone.
      }
    }
    let hardKill: NodeJS.Timeout | undefined
    const stop = () => {
      kill('SIGTERM')
      hardKill ??= setTimeout(() => kill('SIGKILL'), EXEC_DEFAULTS.killGraceMs)
    }
    const timer = setTimeout(() => {
      timedOut = true
      stop()
    }, timeoutMs)
    const onAbort = () => stop()
    o.signal.addEventListener('abort', onAbort, { once: true })
    child.on('error', (e) => {
      clearTimeout(timer)
      o.signal.removeEventListener('abort', onAbort)
      reject(sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `exec ${command}: ${e.message}`, { cause: e }))
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (hardKill) clearTimeout(hardKill)
      o.signal.removeEventListener('abort', onAbort)
      resolve({ code, signal, stdout: out.text(), stderr: err.text(), timedOut })
    })
  })
}

/** Resolves a bare command name on the fixed PATH; an absolute path is used as it is. */
function resolveCommand(command: string): string {
  if (command.startsWith('/')) return command
  if (command.includes('/')) throw bad('exec command', 'a command name or an absolute path', command)
  for (const dir of EXEC_DEFAULTS.path.split(':')) {
    const candidate = posix.join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // Not in this folder.
    }
  }
  throw sandboxError(
    SandboxErrorCodes.CAPABILITY_FAILED,
    `exec ${command}: not found on the agent's PATH (${EXEC_DEFAULTS.path})`,
  )
}

function capture(limit: number): { add: (chunk: Buffer) => void; text: () => string } {
  const chunks: Buffer[] = []
  let size = 0
  let truncated = false
  return {
    add(chunk) {
      if (size >= limit) {
        truncated = true
        return
      }
      const part = chunk.length > limit - size ? chunk.subarray(0, limit - size) : chunk
      if (part !== chunk) truncated = true
      chunks.push(part)
      size += part.length
    },
    text() {
      const text = Buffer.concat(chunks).toString('utf8')
      return truncated ? `${text}\n[truncated at ${limit} bytes]` : text
    },
  }
}
