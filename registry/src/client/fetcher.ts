import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Fetcher } from 'tuf-js'
import { DownloadHTTPError, DownloadLengthMismatchError } from 'tuf-js/dist/error.js'

// tuf-js's Fetcher over Node's own fetch: a timeout per request and a hard cap on bytes
// read (a hostile server cannot stream an endless file). Non-2xx answers become tuf-js's
// DownloadHTTPError, which is how its updater learns that no newer root exists (404).

export class HttpFetcher implements Fetcher {
  constructor(private readonly timeoutMs: number) {}

  async downloadBytes(url: string, maxLength: number): Promise<Buffer> {
    const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' })
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {})
      throw new DownloadHTTPError(`GET ${url} answered ${res.status}`, res.status)
    }
    const declared = Number(res.headers.get('content-length') ?? Number.NaN)
    if (declared > maxLength) {
      await res.body.cancel().catch(() => {})
      throw new DownloadLengthMismatchError(
        `GET ${url}: ${declared} bytes, more than the ${maxLength} expected`,
      )
    }
    const chunks: Uint8Array[] = []
    let total = 0
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength
      if (total > maxLength)
        throw new DownloadLengthMismatchError(`GET ${url}: more than the ${maxLength} bytes expected`)
      chunks.push(chunk)
    }
    return Buffer.concat(chunks)
  }

  async downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
    const bytes = await this.downloadBytes(url, maxLength)
    const dir = await mkdtemp(join(tmpdir(), 'stavily-tuf-'))
    try {
      const file = join(dir, 'download')
      await writeFile(file, bytes)
      return await handler(file)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }
}
