import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, type Socket } from 'node:net'

// A real `git daemon` serving every bare repository under `baseDir` as
// git://127.0.0.1:PORT/<path>. The port is ours: a listener bound to port 0 and kept open,
// each connection handed to `git daemon --inetd` (one process per connection, as inetd
// would), so there is no free port to pick, close and hope to bind again, and the daemon is
// ready as soon as this resolves.

export interface InetdGitDaemon {
  port: number
  url(path: string): string
  close(): Promise<void>
}

export async function startInetdGitDaemon(baseDir: string): Promise<InetdGitDaemon> {
  const children = new Set<ChildProcess>()
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    const child = spawn(
      'git',
      ['daemon', '--inetd', `--base-path=${baseDir}`, '--export-all', '--informative-errors', baseDir],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    )
    children.add(child)
    socket.on('error', () => {})
    child.stdin!.on('error', () => {})
    socket.pipe(child.stdin!)
    child.stdout!.pipe(socket)
    socket.on('close', () => {
      sockets.delete(socket)
      child.kill('SIGTERM')
    })
    child.on('exit', () => {
      children.delete(child)
      socket.end()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const port = (server.address() as { port: number }).port
  return {
    port,
    url: (path) => `git://127.0.0.1:${port}/${path}`,
    async close() {
      for (const s of sockets) s.destroy()
      await Promise.all(
        [...children].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve()
              c.once('exit', () => resolve())
              c.kill('SIGTERM')
            }),
        ),
      )
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
