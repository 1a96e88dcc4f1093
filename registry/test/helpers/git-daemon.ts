import { type ChildProcess, spawn } from 'node:child_process'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './free-port.ts'

// A real `git daemon` on a random loopback port, serving every bare repository under
// `baseDir` as git://127.0.0.1:PORT/NAME. Killed by `close()`.

export interface GitDaemon {
  url(repo: string): string
  close(): Promise<void>
}

export async function startGitDaemon(baseDir: string): Promise<GitDaemon> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const child = spawn(
      'git',
      [
        'daemon',
        `--base-path=${baseDir}`,
        '--export-all',
        '--reuseaddr',
        '--informative-errors',
        '--listen=127.0.0.1',
        `--port=${port}`,
        baseDir,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let exited = false
    child.once('exit', () => {
      exited = true
    })
    if (await waitForPort(port, () => exited)) {
      return {
        url: (repo) => `git://127.0.0.1:${port}/${repo}`,
        close: () => stop(child),
      }
    }
    await stop(child)
  }
  throw new Error('git daemon did not start on a free loopback port after 5 attempts')
}

async function waitForPort(port: number, gaveUp: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !gaveUp(); i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return true
    await sleep(50)
  }
  return false
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}
