// The agent as a real child process (from source under tsx), with its JSON log lines
// collected for assertions.
import { type ChildProcess, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

const main = fileURLToPath(new URL('../../../src/agent/main.ts', import.meta.url))
const faulty = fileURLToPath(new URL('./faulty-agent.ts', import.meta.url))
const tsconfig = fileURLToPath(new URL('../tsconfig.child.json', import.meta.url))
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

export interface LogLine {
  level: number
  msg: string
  [k: string]: unknown
}

export interface AgentProcess {
  child: ChildProcess
  logs: LogLine[]
  stderr: string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  waitForLog(match: (l: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>
  count(match: (l: LogLine) => boolean): number
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** The built bin, as `npm install @stavily/agent` ships it (bundled; `npm run build` makes it). */
export const BUILT_AGENT = fileURLToPath(new URL('../../../dist/agent.js', import.meta.url))

/**
 * Starts the agent from source under tsx, or with `{ built: true }` the built bin through
 * its own #! line, as an operator runs it (with this test's node first on PATH). With
 * `{ fault }` it starts the agent that kills itself at that point (helpers/faulty-agent.ts).
 */
export function startAgent(
  args: string[],
  env: Record<string, string> = {},
  o: { built?: boolean; fault?: string } = {},
): AgentProcess {
  const nodeDir = process.execPath.slice(0, process.execPath.lastIndexOf('/'))
  const child = o.built
    ? spawn(BUILT_AGENT, args, {
        env: {
          ...process.env,
          PATH: `${nodeDir}:${process.env.PATH ?? ''}`,
          STAVILY_LOG_LEVEL: 'debug',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, ['--import', tsx, o.fault ? faulty : main, ...args], {
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: tsconfig,
          STAVILY_LOG_LEVEL: 'debug',
          ...(o.fault ? { STAVILY_TEST_FAULT: o.fault } : {}),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
  const logs: LogLine[] = []
  const waiters = new Set<() => void>()
  let buffer = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (text: string) => {
    buffer += text
    let i = buffer.indexOf('\n')
    while (i >= 0) {
      const line = buffer.slice(0, i)
      buffer = buffer.slice(i + 1)
      try {
        logs.push(JSON.parse(line) as LogLine)
      } catch {
        logs.push({ level: 0, msg: line })
      }
      i = buffer.indexOf('\n')
    }
    for (const w of waiters) w()
  })
  const p: AgentProcess = {
    child,
    logs,
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    count: (match) => logs.filter(match).length,
    waitForLog(match, timeoutMs = 30_000, what = 'log line') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match)
          if (found) {
            done()
            resolve(found)
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(
            new Error(
              `${what}: not logged within ${timeoutMs} ms; stderr: ${p.stderr.slice(-2000)}; last logs: ${JSON.stringify(logs.slice(-15))}`,
            ),
          )
        }, timeoutMs)
        const onExit = () => {
          done()
          check()
          reject(
            new Error(
              `${what}: the agent exited first; stderr: ${p.stderr.slice(-2000)}; last logs: ${JSON.stringify(logs.slice(-15))}`,
            ),
          )
        }
        const done = () => {
          clearTimeout(timer)
          waiters.delete(check)
          child.off('exit', onExit)
        }
        waiters.add(check)
        child.once('exit', onExit)
        check()
      })
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return p.exited
    },
  }
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (t: string) => {
    p.stderr += t
  })
  return p
}
