import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'

// The web dashboard (@stavily/dashboard): static files built by SvelteKit, served at / on
// the operator listener, beside the API at /api/v1 on the same origin (the page's requests
// carry the token in a header; no cookies, no CORS). It is a single-page app: any other GET
// path (a deep link such as /runs/<id>) answers index.html and the page routes itself.

/** Paths that belong to the APIs and docs: an unknown one stays a JSON 404, never the page. */
const NOT_THE_PAGE = ['/api/', '/agents/v1/', '/docs', '/openapi.json']

/** The dashboard's build folder: the configured one, else the installed package's `build/`. */
export function dashboardFolder(configured: string | undefined): string | undefined {
  if (configured !== undefined) return configured
  try {
    const manifest = createRequire(import.meta.url).resolve('@stavily/dashboard/package.json')
    return join(dirname(manifest), 'build')
  } catch {
    return undefined
  }
}

const NOT_BUILT = `<!doctype html>
<meta charset="utf-8"><title>Stavily</title>
<h1>The dashboard is not built</h1>
<p>Build it with <code>npm run build -w @stavily/dashboard</code> (or <code>npm run build</code>
for everything) and restart the orchestrator. The API is at <a href="/docs">/docs</a>.</p>
`

/** Headers every page answer carries: never framed (its buttons change things), no sniffing. */
function pageHeaders(res: { setHeader(name: string, value: string): unknown }): void {
  res.setHeader('x-content-type-options', 'nosniff')
  res.setHeader('x-frame-options', 'DENY')
  res.setHeader('referrer-policy', 'no-referrer')
}

export function dashboardRoutes(folder: string | undefined) {
  return async (app: FastifyInstance): Promise<void> => {
    const built = folder !== undefined && existsSync(join(folder, 'index.html'))
    const isApi = (url: string) => NOT_THE_PAGE.some((p) => url.startsWith(p))
    if (!built) {
      app.get('/*', { schema: { hide: true } }, async (req, reply) => {
        if (isApi(req.url)) return reply.callNotFound()
        return reply.code(404).type('text/html; charset=utf-8').send(NOT_BUILT)
      })
      return
    }
    // One route per built file (wildcard: false), so the fallback below owns every other path.
    await app.register(fastifyStatic, {
      root: folder,
      wildcard: false,
      index: false,
      cacheControl: false,
      setHeaders(res, path) {
        pageHeaders(res)
        // SvelteKit names these files by content hash: cache them for good; others revalidate.
        const hashed = path.includes(join('_app', 'immutable'))
        res.setHeader('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
      },
    })
    app.get('/*', { schema: { hide: true } }, async (req, reply) => {
      if (isApi(req.url)) return reply.callNotFound()
      pageHeaders(reply.raw)
      return reply.header('cache-control', 'no-cache').sendFile('index.html')
    })
  }
}
