import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const TEMPLATES_ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CLI_SOURCE = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
/** tsx resolved from here, so the CLI can run from source with any cwd (a temp folder has no node_modules). */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/** Generous: tsx compiles the CLI on start, and the test machine is a shared 2-core box. */
const DEFAULT_TIMEOUT_MS = 45_000

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * The environment a user's shell would give the CLI: the test runner's and npm's own
 * variables removed (they would leak `npm_config_*` settings and vitest's markers into
 * child npm and vitest processes), colour left to the CLI's own terminal detection.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$|TEST$|FORCE_COLOR$|NO_COLOR$)/i.test(key)) continue
    env[key] = value
  }
  return { ...env, ...extra }
}

/**
 * Runs a command as a separate process with stdin as a pipe (so never a terminal) and
 * kills it after `timeoutMs`: a CLI that waits for input it will never get must fail
 * the test, not hang it.
 */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string | null; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? cleanEnv() })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `${command} ${args.join(' ')} did not finish in ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms\n${stdout}\n${stderr}`,
        ),
      )
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    // `input: null` leaves stdin open, as a CI job's or a pipe's can stay: the CLI must not wait on it.
    if (options.input === null) child.stdin.on('error', () => {})
    else child.stdin.end(options.input ?? '')
    child.on('exit', () => child.stdin.destroy())
  })
}

/**
 * Run from source, the scaffolder is inside this checkout and would vendor its SDK (see
 * src/local-sdk.ts); these tests are about the published scaffolder, so they ask for the
 * npm range unless the test chooses an SDK itself.
 */
export function withNpmSdk(args: string[]): string[] {
  return args.includes('--sdk') || args.includes('--help') || args.includes('-h')
    ? args
    : [...args, '--sdk', 'npm']
}

/** The scaffolder from source, as `npm create stavily-plugin` would run it. */
export function runCli(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string | null },
) {
  return run(process.execPath, ['--import', TSX_LOADER, CLI_SOURCE, ...withNpmSdk(args)], options)
}

/** Quotes one argument for `sh -c`. */
function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`
}

/**
 * The scaffolder on a real terminal: util-linux `script` gives it a pseudo-terminal, so
 * stdin.isTTY is true and it prompts. The answers are typed ahead; stdin stays open until
 * the CLI exits, because `script` would hang up the terminal on end of input.
 */
export function runCliOnTerminal(
  args: string[],
  options: {
    cwd: string
    answers: string[]
    /** Type the answers only once the screen shows this text (a keystroke such as Ctrl-C must reach the prompt, not start-up). */
    waitFor?: string
    env?: NodeJS.ProcessEnv
    timeoutMs?: number
  },
): Promise<CliResult> {
  const command = [process.execPath, '--import', TSX_LOADER, CLI_SOURCE, ...withNpmSdk(args)]
    .map(shellQuote)
    .join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
    })
    let stdout = ''
    let typed = false
    const type = () => {
      typed = true
      child.stdin.write(options.answers.map((answer) => `${answer}\n`).join(''))
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
      if (!typed && options.waitFor !== undefined && stdout.includes(options.waitFor)) type()
    })
    child.stderr.resume()
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `the CLI on a terminal did not finish in ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms:\n${stdout}`,
        ),
      )
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      // A terminal ends lines with CRLF; tests compare plain lines.
      resolve({ code, stdout: stdout.replaceAll('\r', ''), stderr: '' })
    })
    child.stdin.on('error', () => {})
    if (options.waitFor === undefined) type()
  })
}
