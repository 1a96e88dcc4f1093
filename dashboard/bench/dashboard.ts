// Dashboard benchmark: what the runs page costs to load and how fast it follows a run.
//   dashboard_bundle_kb_gz: gzip size of the JS and CSS the runs page loads on a first visit
//     (every /_app/ script and stylesheet Chromium fetched, each gzipped as a server would);
//   dashboard_runs_interactive_ms_p50: navigation start → the runs table shown, signed in
//     (token in the tab's session storage), with the orchestrator on this machine;
//   dashboard_live_update_ms_p50: a run's status change published by the orchestrator (its
//     in-process live stream, after the commit) → the new status in the page's DOM at the
//     next frame, through GET /api/v1/stream; baseline: the same events read by a plain
//     fetch SSE client in this process, so the page's own share can be told apart.
// A real orchestrator (PGlite in memory, or PostgreSQL when DATABASE_URL is set) serves the
// built dashboard; Debian's Chromium runs it through playwright-core. Runs start from a
// signed webhook; their step (a plugin published from a local Git repository) waits for an
// agent that never comes, so each status change
// measured is the cancel of a running run (POST /runs/:id/cancel).
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { createOrchestrator, type OrchestratorConfig, PluginRepo, signWebhook } from '@stavily/core/testing'
import { chromium, type Page } from 'playwright-core'
import { type BenchContext, type BenchReport, percentile, round } from '../../bench/lib.ts'
import { SseParser } from '../src/lib/sse-parser.ts'

const BUILD = fileURLToPath(new URL('../build/', import.meta.url))
const CHROMIUM = '/usr/bin/chromium'
const HOOK_SECRET = 'bench-hook-signing-key-0123456789'
const ADMIN = `stv_admin_${randomBytes(32).toString('base64url')}`

const WORKFLOW = `name: bench-live
trigger:
  webhook:
    secret: HOOK_KEY
actions:
  - id: wait
    plugin: "@bench/held"
    version: ^1.0.0
    pool: nobody-serves-this
    input: { service: bench }
`

/** Wall-clock milliseconds with sub-millisecond precision (comparable with the page's). */
const wall = () => performance.timeOrigin + performance.now()

export default async function dashboard(ctx: BenchContext): Promise<BenchReport> {
  if (!existsSync(`${BUILD}index.html`)) {
    throw new Error(`the dashboard is not built (${BUILD}): run npm run build -w @stavily/dashboard`)
  }
  const samples = ctx.quick ? 8 : 40
  const loads = ctx.quick ? 3 : 10
  const postgres = process.env.DATABASE_URL
  const schema = `bench_dashboard_${process.pid}`
  const config: OrchestratorConfig = {
    database: postgres ? { url: postgres, schema } : { dataDir: null, schema },
    listen: { host: '127.0.0.1', port: 0 },
    bootstrapToken: ADMIN,
    dashboardDir: BUILD,
    supervise: false,
    registry: { remotes: { allowFile: true } },
  }
  const o = await createOrchestrator(config)
  const { operatorUrl: base } = await o.listen()
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  })
  const stopReader = new AbortController()
  try {
    const api = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      })
      const text = await res.text()
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
      return text ? JSON.parse(text) : undefined
    }
    const { orgId } = await api('GET', '/whoami')
    await api('PUT', '/secrets/HOOK_KEY', { value: HOOK_SECRET })
    // A published plugin enabled in a pool no agent serves: each run's step waits, running.
    const repo = new PluginRepo('@bench/held')
    try {
      await api('POST', '/registry/plugins', { repo: repo.url, ref: repo.release('1.0.0') })
    } finally {
      repo.remove()
    }
    await api('POST', '/plugins/enable', { name: '@bench/held', pool: 'nobody-serves-this', range: '^1' })
    const { workflow } = await api('POST', '/workflows', { document: WORKFLOW })

    // When the orchestrator published each run status (in process: after the commit).
    const published = new Map<string, number>()
    const unsubscribe = o.services.stream.subscribe(orgId, (e) => {
      const d = e.data as { runId?: string; status?: string }
      if (e.type === 'run' && d.runId && d.status) published.set(`${d.runId}:${d.status}`, wall())
    })
    // The baseline: a plain SSE client in this process, reading the same stream.
    const seenByNode = new Map<string, number>()
    // Ended by the abort below; its rejection then is expected.
    const reader = readStream(base, stopReader.signal, (key) => seenByNode.set(key, wall())).catch(() => {})

    // --- First load of the runs page: bytes and time to the table -------------------------
    ctx.progress('first loads of the runs page')
    const interactive: number[] = []
    let bundleBytes = 0
    let bundleFiles = 0
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
      await context.addInitScript(`sessionStorage.setItem('stavily.token', ${JSON.stringify(ADMIN)})`)
      const page = await context.newPage()
      const assets = new Map<string, Promise<Buffer>>()
      page.on('response', (res) => {
        const type = res.request().resourceType()
        if ((type === 'script' || type === 'stylesheet') && new URL(res.url()).pathname.startsWith('/_app/'))
          assets.set(res.url(), res.body())
      })
      await page.goto(`${base}/runs`)
      // Timed in the page, at the first frame that shows the table (or the empty list).
      const shownAt = await page.waitForFunction(
        () => document.querySelector('[data-testid="runs"], main .empty') && performance.now(),
        undefined,
        { polling: 'raf' },
      )
      interactive.push((await shownAt.jsonValue()) as number)
      if (i === 0) {
        for (const body of await Promise.all(assets.values())) bundleBytes += gzipSync(body).length
        bundleFiles = assets.size
      }
      await context.close()
    }

    // --- Live updates ----------------------------------------------------------------------
    ctx.progress(`${samples} live status changes`)
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    await context.addInitScript(`sessionStorage.setItem('stavily.token', ${JSON.stringify(ADMIN)})`)
    const page = await context.newPage()
    await page.goto(`${base}/runs`)
    await page.getByTestId('live-state').filter({ hasText: 'live' }).waitFor()
    await watchStatuses(page)

    const raw = JSON.stringify({ bench: true })
    const hook = await fetch(`${base}/api/v1/hooks/${workflow.id}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stavily-signature': signWebhook(HOOK_SECRET, raw, Math.floor(Date.now() / 1000), workflow.id),
      },
      body: raw,
    })
    const first = (await hook.json()) as { runId: string | null }
    if (!first.runId) throw new Error(`webhook started no run: ${JSON.stringify(first)}`)
    let previous = first.runId
    const live: number[] = []
    const baseline: number[] = []
    for (let i = 0; i < samples + 2; i++) {
      // A fresh running run (a retry of the last), shown in the page, then cancelled.
      const run = i === 0 ? { id: previous } : await api('POST', `/runs/${previous}/retry`)
      previous = run.id
      await page.locator(`tr[data-run-id="${run.id}"] [data-status="running"]`).waitFor()
      await api('POST', `/runs/${run.id}/cancel`)
      const key = `${run.id}:cancelled`
      await page.locator(`tr[data-run-id="${run.id}"] [data-status="cancelled"]`).waitFor()
      // The page records the time in the next animation frame, which may come after the
      // locator saw the change: wait for the record itself (read by evaluate: the page's
      // Content-Security-Policy forbids the eval waitForFunction would use).
      const shownIn = () =>
        page.evaluate(`window.__shown[${JSON.stringify(key)}]`) as Promise<number | undefined>
      let shown = await shownIn()
      for (const deadline = Date.now() + 10_000; shown === undefined && Date.now() < deadline; )
        shown = await shownIn()
      const at = published.get(key)
      await until(() => seenByNode.has(key))
      if (at === undefined || shown === undefined) throw new Error(`no timing for ${key}`)
      if (i < 2) continue // warm-up
      live.push(shown - at)
      baseline.push(seenByNode.get(key)! - at)
    }
    unsubscribe()
    stopReader.abort()
    await reader
    await context.close()

    return {
      metrics: {
        dashboard_bundle_kb_gz: {
          value: round(bundleBytes / 1024, 1),
          unit: 'KB',
          target: 150,
          better: 'lower',
        },
        dashboard_runs_interactive_ms_p50: {
          value: round(percentile(interactive, 50), 1),
          unit: 'ms',
          target: 1000,
          better: 'lower',
        },
        dashboard_live_update_ms_p50: {
          value: round(percentile(live, 50), 1),
          unit: 'ms',
          target: 250,
          better: 'lower',
          baseline: 'the same event read by a fetch SSE client in node',
          baseline_value: round(percentile(baseline, 50), 2),
        },
        dashboard_live_update_ms_p99: { value: round(percentile(live, 99), 1), unit: 'ms', better: 'lower' },
      },
      info: {
        backend: postgres ? 'postgres' : 'pglite',
        bundle_files: bundleFiles,
        first_loads: loads,
        live_samples: live.length,
      },
    }
  } finally {
    stopReader.abort()
    await browser.close()
    await o.close()
    if (postgres) await dropSchema(postgres, schema)
  }
}

/**
 * Records in the page, at the next frame, when each run row first shows each status. Passed
 * as text: tsx's transform would add helpers the page does not have to a function.
 */
const WATCH_STATUSES = `(() => {
  const shown = {}
  window.__shown = shown
  const scan = () => {
    const at = performance.timeOrigin + performance.now()
    requestAnimationFrame(() => {
      const painted = performance.timeOrigin + performance.now()
      for (const el of document.querySelectorAll('tr[data-run-id] [data-status]')) {
        const key = el.closest('tr').getAttribute('data-run-id') + ':' + el.getAttribute('data-status')
        // The frame that shows the change (the mutation time if no frame came first).
        if (!(key in shown)) shown[key] = Math.max(at, painted)
      }
    })
  }
  new MutationObserver(scan).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'],
  })
})()`

async function watchStatuses(page: Page): Promise<void> {
  await page.evaluate(WATCH_STATUSES)
}

async function readStream(base: string, signal: AbortSignal, seen: (key: string) => void): Promise<void> {
  const res = await fetch(`${base}/api/v1/stream`, { headers: { authorization: `Bearer ${ADMIN}` }, signal })
  const parser = new SseParser()
  const decoder = new TextDecoder()
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const m of parser.push(decoder.decode(chunk, { stream: true }))) {
      if (m.event !== 'run') continue
      const d = JSON.parse(m.data) as { runId: string; status: string }
      seen(`${d.runId}:${d.status}`)
    }
  }
}

async function until(ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the stream')
    await new Promise((r) => setTimeout(r, 5))
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (const s of [schema, `${schema}_boss`, `${schema}_registry`])
      await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
  } finally {
    await client.end()
  }
}
