// A real Alertmanager (Debian's `prometheus-alertmanager`) on a loopback port of its own,
// with one route whose webhook receiver is the URL the test gives, sending the credential
// the way an operator configures it (http_config.authorization). Grouping and repeat
// intervals are seconds, not minutes, so a test sees a firing and its resolution quickly.
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Child, startChild } from './child.ts'
import { waitFor, waitForHttp } from './net.ts'

export const ALERTMANAGER_BIN = 'prometheus-alertmanager'

export interface Alertmanager {
  /** host:port, as Prometheus's alerting config names it. */
  address: string
  url: string
  child: Child
  close(): Promise<void>
}

/** The line in which Alertmanager names the address it bound (with `--web.listen-address=…:0`). */
const LISTENING = /msg="Listening on" address=127\.0\.0\.1:(\d+)/

export async function startAlertmanager(
  dir: string,
  webhook: { url: string; bearer: string },
): Promise<Alertmanager> {
  if (spawnSync(ALERTMANAGER_BIN, ['--version']).error) {
    throw new Error(
      `the ${ALERTMANAGER_BIN} binary is not on PATH: install Debian's prometheus-alertmanager package (.ci/run does)`,
    )
  }
  mkdirSync(join(dir, 'data'), { recursive: true })
  const config = join(dir, 'alertmanager.yml')
  writeFileSync(
    config,
    [
      'route:',
      '  receiver: stavily',
      '  group_by: [alertname, service]',
      '  group_wait: 1s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: stavily',
      '    webhook_configs:',
      `      - url: ${JSON.stringify(webhook.url)}`,
      '        send_resolved: true',
      '        http_config:',
      '          authorization:',
      `            credentials: ${JSON.stringify(webhook.bearer)}`,
      '',
    ].join('\n'),
  )
  // Port 0 and the address read back from the log (as for Prometheus: no pick-then-bind
  // window); no cluster listener (its default is a fixed port, 9094).
  const child = startChild('alertmanager', ALERTMANAGER_BIN, [
    `--config.file=${config}`,
    `--storage.path=${join(dir, 'data')}`,
    '--web.listen-address=127.0.0.1:0',
    '--cluster.listen-address=',
    '--log.level=info',
  ])
  try {
    const listening = await child.waitForLine((line) => LISTENING.test(line), 30_000)
    const port = LISTENING.exec(listening)![1]
    const url = `http://127.0.0.1:${port}`
    await waitFor(
      'alertmanager to be ready',
      async () => {
        if (!child.running) throw new Error(`alertmanager exited:\n${child.tail()}`)
        return waitForHttp(`${url}/-/ready`, 1000).catch(() => undefined)
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    )
    return { address: `127.0.0.1:${port}`, url, child, close: () => child.stop(10_000) }
  } catch (err) {
    await child.stop(2000)
    throw err
  }
}
