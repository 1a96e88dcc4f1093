import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startProxy, type TcpProxy } from '../../../test/tcp-proxy.ts'

// A private redis-server, for tests that stop Redis mid-test: the shared server must never
// be stopped. It listens on a unix socket only (no port to race for); clients reach it
// through a loopback proxy whose port is held for the helper's whole life, so the URL stays
// valid across stop() and start().

export interface OwnRedis {
  url: string
  port: number
  start(): Promise<void>
  stop(): Promise<void>
  /** Stops Redis for good and removes its folder and proxy. */
  close(): Promise<void>
}

export async function ownRedis(): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'stavily-redis-'))
  const socket = join(dir, 'redis.sock')
  const proxy: TcpProxy = await startProxy()
  let child: ChildProcess | undefined
  const self: OwnRedis = {
    url: `redis://127.0.0.1:${proxy.port}`,
    port: proxy.port,
    async start() {
      const c = spawn(
        'redis-server',
        ['--port', '0', '--unixsocket', socket, '--dir', dir, '--save', '', '--appendonly', 'no'],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      )
      child = c
      await new Promise<void>((resolve, reject) => {
        let out = ''
        c.stdout!.on('data', (d: Buffer) => {
          out += d.toString()
          if (/ready to accept connections/i.test(out)) resolve()
        })
        c.on('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${out}`)))
      })
      proxy.target = { path: socket }
    },
    async stop() {
      proxy.target = undefined
      proxy.dropAll()
      const c = child
      child = undefined
      if (!c || c.exitCode !== null || c.signalCode !== null) return
      await new Promise<void>((resolve) => {
        c.on('exit', () => resolve())
        c.kill('SIGKILL')
      })
    },
    async close() {
      await self.stop()
      await proxy.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await self.start()
  return self
}
