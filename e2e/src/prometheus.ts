// A real Prometheus (Debian's `prometheus` binary) on a loopback port with its own config
// and data folder, scraping a tiny exporter whose metric value the test sets.
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { type Child, startChild } from './child.ts'
import { freePort, waitFor, waitForHttp } from './net.ts'

export interface Exporter {
  url: string
  port: number
  /** Sets the value of `stavily_e2e_queue_depth{service="demo"}`. */
  set(value: number): void
  close(): Promise<void>
}

/** An HTTP server answering /metrics in the Prometheus text format. */
export async function startExporter(initial = 0): Promise<Exporter> {
  let value = initial
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
    res.end(
      '# HELP stavily_e2e_queue_depth Items waiting in the demo queue.\n' +
        '# TYPE stavily_e2e_queue_depth gauge\n' +
        `stavily_e2e_queue_depth{service="demo"} ${value}\n`,
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    set: (v) => {
      value = v
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface Prometheus {
  url: string
  child: Child
  /** Runs an instant query and returns the first sample's value, if any. */
  value(query: string): Promise<number | undefined>
  close(): Promise<void>
}

/** Starts `prometheus` scraping `target` (host:port) every second. */
export async function startPrometheus(dir: string, target: string): Promise<Prometheus> {
  if (spawnSync('prometheus', ['--version']).error) {
    throw new Error(
      "the prometheus binary is not on PATH: install Debian's prometheus package (.ci/run does: apt-get install --no-install-recommends prometheus)",
    )
  }
  mkdirSync(join(dir, 'data'), { recursive: true })
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: e2e',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  )
  for (let attempt = 0; ; attempt++) {
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const child = startChild('prometheus', 'prometheus', [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ])
    try {
      await waitFor(
        'prometheus to be ready',
        async () => {
          if (!child.running) throw new Error(`prometheus exited:\n${child.tail()}`)
          return waitForHttp(`${url}/-/ready`, 1000).catch(() => undefined)
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      )
      return {
        url,
        child,
        async value(query) {
          const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`)
          const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } }
          const first = body.data?.result?.[0]
          return first ? Number(first.value[1]) : undefined
        },
        close: () => child.stop(10_000),
      }
    } catch (err) {
      await child.stop(2000)
      if (attempt >= 2) throw err
    }
  }
}
