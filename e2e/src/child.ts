// Child processes with their output kept line by line, so a test can wait for a line (the
// orchestrator's ready line, an agent's "enrolled") and show the tail when something fails.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface Child {
  readonly name: string
  readonly process: ChildProcess
  readonly pid: number
  /** Every line written to stdout and stderr, in order (stderr lines prefixed "! "). */
  readonly lines: string[]
  /** Resolves with the first line (already seen or to come) that `match` accepts. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly running: boolean
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>
  /** kill -9, as a crash would. */
  kill9(): Promise<void>
  /** The last lines of output, for failure messages. */
  tail(n?: number): string
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions & { echo?: boolean } = {},
): Child {
  const proc = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const waiters = new Set<{ match: (line: string) => boolean; resolve(line: string): void }>()
  const push = (line: string) => {
    lines.push(line)
    if (lines.length > 5000) lines.splice(0, 1000)
    if (options.echo || process.env.STAVILY_E2E_ECHO === '1') process.stderr.write(`[${name}] ${line}\n`)
    for (const w of waiters) {
      if (w.match(line)) {
        waiters.delete(w)
        w.resolve(line)
      }
    }
  }
  createInterface({ input: proc.stdout! }).on('line', push)
  createInterface({ input: proc.stderr! }).on('line', (line) => push(`! ${line}`))
  let running = true
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => {
      running = false
      resolve({ code, signal })
    })
    proc.once('error', (err) => {
      running = false
      push(`! spawn failed: ${err.message}`)
      resolve({ code: -1, signal: null })
    })
  })
  const tail = (n = 40) => lines.slice(-n).join('\n')
  const child: Child = {
    name,
    process: proc,
    pid: proc.pid ?? -1,
    lines,
    exited,
    get running() {
      return running
    },
    tail,
    waitForLine(match, timeoutMs = 60_000) {
      const seen = lines.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const w = {
          match,
          resolve: (line: string) => {
            clearTimeout(timer)
            resolve(line)
          },
        }
        const timer = setTimeout(() => {
          waiters.delete(w)
          reject(new Error(`${name}: no matching line within ${timeoutMs} ms; last output:\n${tail()}`))
        }, timeoutMs)
        waiters.add(w)
        void exited.then(({ code, signal }) => {
          if (!waiters.has(w)) return
          waiters.delete(w)
          clearTimeout(timer)
          reject(
            new Error(`${name} exited (code ${code}, signal ${signal}) before the line; output:\n${tail()}`),
          )
        })
      })
    },
    async stop(graceMs = 15_000) {
      if (!running) return
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
    async kill9() {
      if (!running) return
      proc.kill('SIGKILL')
      await exited
    },
  }
  return child
}
