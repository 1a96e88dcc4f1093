import { createServer } from 'node:http'

// A loopback HTTP proxy in front of the registry that can rewrite any answer: how the tests
// play a compromised mirror or a man in the middle serving old, expired or forged files.

export type Rewrite = (path: string, body: Buffer) => Buffer | undefined

export async function startTamperProxy(upstream: string): Promise<{
  baseUrl: string
  rewrite: Rewrite | undefined
  setRewrite(r: Rewrite | undefined): void
  close(): Promise<void>
}> {
  const state: { rewrite: Rewrite | undefined } = { rewrite: undefined }
  const up = new URL(upstream)
  const server = createServer(async (req, res) => {
    const path = req.url ?? '/'
    const answer = await fetch(`${up.origin}${path}`)
    let body: Buffer = Buffer.from(await answer.arrayBuffer())
    const changed = state.rewrite?.(path, body)
    if (changed) body = changed
    // A forged file is served as a success, even where the real registry has none (404).
    res.writeHead(changed ? 200 : answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/octet-stream',
    })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    baseUrl: `http://127.0.0.1:${port}${up.pathname}`,
    get rewrite() {
      return state.rewrite
    },
    setRewrite(r) {
      state.rewrite = r
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
