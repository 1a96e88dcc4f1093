// Child processes for `npm run dev`: output read line by line (each line goes to a handler
// and to a log file), a "ready" line to wait for, and an orderly stop.
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { pathToFileURL } from 'node:url'

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/**
 * node arguments to run a TypeScript entry of this checkout from source: tsx, with the
 * workspace packages resolved to their sources (e2e/tsconfig.source.json), so the demo
 * always runs what is checked out, without a build. --no-node-snapshot: isolated-vm.
 */
export function fromSource(root, file) {
  return {
    args: ['--no-node-snapshot', '--import', tsx, join(root, file)],
    env: { TSX_TSCONFIG_PATH: join(root, 'e2e/tsconfig.source.json') },
  }
}

/**
 * Starts `process.execPath args`; every output line goes to `logFile` and to `onLine`.
 * Returns { child, name, ready(match, timeoutMs), stop(graceMs), exited }.
 */
export function startProcess(name, args, { env, logFile, onLine = () => {} }) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C in the terminal reaches only `npm run dev`, which then
    // stops the children in order (agents first, the orchestrator last).
    detached: true,
  })
  const log = createWriteStream(logFile, { flags: 'a' })
  const seen = []
  const waiters = new Set()
  const handle = (line, stream) => {
    log.write(`${line}\n`)
    seen.push(line)
    if (seen.length > 200) seen.shift()
    for (const w of waiters) if (w.match(line)) w.resolve(line)
    onLine(line, stream)
  }
  createInterface({ input: child.stdout }).on('line', (l) => handle(l, 'stdout'))
  createInterface({ input: child.stderr }).on('line', (l) => handle(l, 'stderr'))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  let running = true
  void exited.then(() => {
    running = false
    log.end()
  })
  return {
    name,
    child,
    exited,
    logFile,
    get running() {
      return running
    },
    tail: (n = 15) => seen.slice(-n).join('\n'),
    ready(match, timeoutMs = 120_000) {
      const found = seen.find(match)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const w = {
          match,
          resolve: (line) => {
            waiters.delete(w)
            clearTimeout(timer)
            resolve(line)
          },
        }
        const timer = setTimeout(() => {
          waiters.delete(w)
          reject(new Error(`${name} did not get ready within ${timeoutMs / 1000} s; see ${logFile}`))
        }, timeoutMs)
        waiters.add(w)
        void exited.then(({ code, signal }) => {
          if (!waiters.has(w)) return
          waiters.delete(w)
          clearTimeout(timer)
          reject(
            new Error(
              `${name} exited (code ${code}, signal ${signal}); last lines:\n${seen.slice(-15).join('\n')}`,
            ),
          )
        })
      })
    },
    async stop(graceMs = 15_000) {
      if (!running) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
    kill() {
      if (running) child.kill('SIGKILL')
    },
  }
}
