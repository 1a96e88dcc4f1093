import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// The orchestrator as a child process (from source, through tsx), for tests that kill it.

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export interface Child {
  proc: ChildProcess
  url: string
  stderr: () => string
}

export async function startChild(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`orchestrator did not start in 60 s:\n${err}`)), 60_000)
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) {
        clearTimeout(timer)
        resolve(JSON.parse(line).agentUrl)
      }
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`orchestrator exited with ${code} before it was ready:\n${err}`))
    })
  })
  return { proc, url, stderr: () => err }
}

export async function kill9(child: Child): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return
  await new Promise<void>((resolve) => {
    child.proc.on('exit', () => resolve())
    child.proc.kill('SIGKILL')
  })
}

export async function stopGracefully(child: Child): Promise<number | null> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return child.proc.exitCode
  return new Promise((resolve) => {
    child.proc.on('exit', (code) => resolve(code))
    child.proc.kill('SIGTERM')
  })
}
