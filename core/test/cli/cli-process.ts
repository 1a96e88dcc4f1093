import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { tempDir } from '../../../test/temp-dir.ts'

// Runs `stavily` as a real child process (from source through tsx), with its own config
// file, so every test exercises argument parsing, the config file, HTTP and exit codes
// exactly as a user's shell does.

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const PATHS = fileURLToPath(new URL('./tsconfig.paths.json', import.meta.url))
// By URL: `--import tsx` would resolve from the child's working folder, which tests vary.
const TSX = import.meta.resolve('tsx')

/**
 * What one `stavily` process may take, start to exit, on a loaded 2-core machine: tsx
 * compiles the CLI from source on a cold start (about 3 s at load 18, several times that
 * when the machine is busier). Tests that run several size their timeout from it.
 */
export const CLI_PROCESS_MS = 20_000

export interface Result {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  input?: string
  cwd?: string
}

/** A fresh config folder: `STAVILY_CONFIG` for one simulated user. */
export function freshConfig(): string {
  return join(tempDir('cli'), 'config.json')
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: PATHS }
  // The user's own configuration must not leak into the tests.
  for (const k of ['STAVILY_URL', 'STAVILY_TOKEN', 'STAVILY_CONFIG', 'NO_COLOR', 'STAVILY_REGISTRY_URL'])
    delete env[k]
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

export function spawnCli(args: string[], opts: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: childEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

export function collect(proc: ChildProcess, input?: string | null): Promise<Result> {
  let stdout = ''
  let stderr = ''
  proc.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  // null: leave standard input open (a terminal session types into it later).
  if (typeof input === 'string') proc.stdin!.end(input)
  else if (input === undefined) proc.stdin!.end()
  return new Promise((resolve, reject) => {
    proc.on('error', reject)
    proc.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

export function cli(args: string[], opts: CliOptions = {}): Promise<Result> {
  return collect(spawnCli(args, opts), opts.input)
}

/**
 * Runs `stavily` on a pseudo-terminal (util-linux `script`), as a person at a shell: it
 * waits for `prompt`, then types `answer` and Enter. Typed characters would be echoed by
 * the terminal unless the CLI turns echo off, so the output shows whether it did.
 */
export function cliOnTerminal(
  args: string[],
  opts: CliOptions & { prompt: string; answer: string },
): Promise<Result> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  const command = [process.execPath, '--import', TSX, MAIN, ...args].map(quote).join(' ')
  const proc = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: opts.cwd ?? ROOT,
    env: childEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let typed = false
  proc.stdout!.on('data', (d: Buffer) => {
    if (!typed && d.toString().includes(opts.prompt)) {
      typed = true
      proc.stdin!.write(`${opts.answer}\r`)
    }
  })
  return collect(proc, null)
}
