// A real Prometheus (Debian's `prometheus` binary) on a loopback port with its own config
// and data folder, scraping a tiny exporter whose metric value the test sets.
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { type Child, startChild } from './child.ts'
import { waitFor, waitForHttp } from './net.ts'

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

/** The line in which Prometheus names the address it bound (with `--web.listen-address=…:0`). */
const LISTENING = /msg="Listening on" address=127\.0\.0\.1:(\d+)/

export interface PrometheusOptions {
  /** Alerting rules (a rule file's YAML), evaluated every second. */
  rules?: string
  /** host:port of an Alertmanager to send alerts to. */
  alertmanager?: string
}

/** Starts `prometheus` on a loopback port of its own, scraping `target` (host:port) every second. */
export async function startPrometheus(
  dir: string,
  target: string,
  opts: PrometheusOptions = {},
): Promise<Prometheus> {
  if (spawnSync('prometheus', ['--version']).error) {
    throw new Error(
      "the prometheus binary is not on PATH: install Debian's prometheus package (.ci/run does: apt-get install --no-install-recommends prometheus)",
    )
  }
  mkdirSync(join(dir, 'data'), { recursive: true })
  const config = join(dir, 'prometheus.yml')
  const rulesFile = join(dir, 'rules.yml')
  if (opts.rules) writeFileSync(rulesFile, opts.rules)
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
      ...(opts.rules ? ['rule_files:', `  - ${rulesFile}`] : []),
      ...(opts.alertmanager
        ? [
            'alerting:',
            '  alertmanagers:',
            '    - static_configs:',
            `        - targets: ['${opts.alertmanager}']`,
          ]
        : []),
      '',
    ].join('\n'),
  )
  // Port 0: Prometheus binds a port the kernel picks and logs the address it bound ("Listening
  // on", exporter-toolkit's line with the listener's real address; the "Start listening" line
  // before it repeats the flag). Picking a free port here and passing it on would leave a
  // window in which another process takes it, and a Prometheus of another test on that port
  // would then answer our readiness check.
  const child = startChild('prometheus', 'prometheus', [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    '--web.listen-address=127.0.0.1:0',
    // info: the "Listening on" line is logged at that level.
    '--log.level=info',
  ])
  try {
    // Rejects, with the output, if Prometheus exits first (a bad flag, a data folder in use).
    const listening = await child.waitForLine((line) => LISTENING.test(line), 30_000)
    const url = `http://127.0.0.1:${LISTENING.exec(listening)![1]}`
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
    throw err
  }
}
