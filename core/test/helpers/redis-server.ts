import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'

// A private redis-server on a free loopback port, for tests that stop Redis mid-test:
// the shared server must never be stopped.

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

export interface OwnRedis {
  url: string
  port: number
  start(): Promise<void>
  stop(): Promise<void>
}

export async function ownRedis(): Promise<OwnRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const self: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      )
      await new Promise<void>((resolve, reject) => {
        let out = ''
        child!.stdout!.on('data', (d: Buffer) => {
          out += d.toString()
          if (out.includes('Ready to accept connections')) resolve()
        })
        child!.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)))
      })
    },
    async stop() {
      const c = child
      child = undefined
      if (!c || c.exitCode !== null) return
      await new Promise<void>((resolve) => {
        c.on('exit', () => resolve())
        c.kill('SIGKILL')
      })
    },
  }
  await self.start()
  return self
}
