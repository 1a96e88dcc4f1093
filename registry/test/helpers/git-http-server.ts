import { spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

// A private Git server over HTTP: `git http-backend` run as a CGI behind a small loopback
// node server that demands HTTP basic auth. Serves every repository under `root`.

export interface GitHttpServer {
  url(repo: string): string
  /** Requests that reached the server, with whether they were authorised (for assertions). */
  readonly requests: { path: string; authorized: boolean }[]
  close(): Promise<void>
}

export async function startGitHttpServer(
  root: string,
  auth: { username: string; password: string },
): Promise<GitHttpServer> {
  const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
  const requests: { path: string; authorized: boolean }[] = []
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const authorized = req.headers.authorization === expected
    requests.push({ path: url.pathname, authorized })
    if (!authorized) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="stavily-test"' }).end('unauthorized')
      return
    }
    cgi(root, url, req, res, auth.username)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: (repo) => `http://127.0.0.1:${port}/${repo}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function cgi(root: string, url: URL, req: IncomingMessage, res: ServerResponse, user: string): void {
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: url.pathname,
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: user,
      REMOTE_ADDR: '127.0.0.1',
      // Protocol v2 and gzip'd request bodies are announced in headers the CGI reads from env.
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      ...(req.headers['content-encoding']
        ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) }
        : {}),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  req.pipe(child.stdin)
  let head = Buffer.alloc(0)
  let headersDone = false
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk)
      return
    }
    head = Buffer.concat([head, chunk])
    const end = head.indexOf('\r\n\r\n')
    if (end < 0) return
    headersDone = true
    let status = 200
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':')
      const name = line.slice(0, i).trim()
      const value = line.slice(i + 1).trim()
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10)
      else res.setHeader(name, value)
    }
    res.writeHead(status)
    res.write(head.subarray(end + 4))
  })
  child.stdout.on('end', () => res.end())
  child.on('error', () => res.destroy())
}
