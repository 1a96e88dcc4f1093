import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'

// A tiny npm registry on loopback: packuments and tarballs of folders packed with `npm pack`,
// so installs from a lockfile of registry tarballs run without the network.

export interface NpmRegistry {
  url: string
  /** Tarball requests served, by file name. */
  readonly fetched: string[]
  close(): Promise<void>
}

export async function startNpmRegistry(
  packages: { dir: string; name: string; version: string }[],
  packDir: string,
): Promise<NpmRegistry> {
  const tarballs = new Map<string, Buffer>()
  const fetched: string[] = []
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1))
    const tgz = tarballs.get(path)
    if (tgz) {
      fetched.push(path)
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tgz)
      return
    }
    const versions = packages.filter((p) => p.name === path)
    if (versions.length === 0) return void res.writeHead(404).end('{}')
    const body = {
      name: path,
      'dist-tags': { latest: versions.at(-1)!.version },
      versions: Object.fromEntries(
        versions.map((p) => {
          const file = `${p.name}/-/${p.name}-${p.version}.tgz`
          const bytes = tarballs.get(file)!
          return [
            p.version,
            {
              name: p.name,
              version: p.version,
              dist: {
                tarball: `${url}${file}`,
                shasum: createHash('sha1').update(bytes).digest('hex'),
                integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
              },
            },
          ]
        }),
      ),
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  })
  for (const p of packages) {
    const file = execFileSync('npm', ['pack', '--silent', '--pack-destination', packDir, p.dir], {
      encoding: 'utf8',
    }).trim()
    tarballs.set(`${p.name}/-/${p.name}-${p.version}.tgz`, readFileSync(join(packDir, file)))
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`
  return {
    url,
    fetched,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
