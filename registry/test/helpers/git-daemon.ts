import { startInetdGitDaemon } from '../../../test/git-daemon.ts'

// A real `git daemon` on a loopback port of its own (bound to 0 and kept), serving every
// bare repository under `baseDir` as git://127.0.0.1:PORT/NAME. Stopped by `close()`.

export interface GitDaemon {
  url(repo: string): string
  close(): Promise<void>
}

export async function startGitDaemon(baseDir: string): Promise<GitDaemon> {
  const daemon = await startInetdGitDaemon(baseDir)
  return { url: (repo) => daemon.url(repo), close: () => daemon.close() }
}
