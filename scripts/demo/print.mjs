// What `npm run dev` prints: the steps as they happen, where everything is, and the run as
// it happens (from the live event stream), in colour on a terminal.

const clip = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s)

/** Plugin log lines shown under each step of a finished run. */
const LOG_LINES_PER_STEP = 5

export function createPrinter(tty) {
  const paint = (code) => (s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s)
  const bold = paint('1')
  const dim = paint('2')
  const red = paint('31')
  const green = paint('32')
  const yellow = paint('33')
  const cyan = paint('36')
  const magenta = paint('35')
  const time = () => dim(new Date().toISOString().slice(11, 19))
  const line = (s) => process.stdout.write(`${s}\n`)
  const statusColour = (s) =>
    s === 'succeeded' ? green(s) : s === 'failed' || s === 'cancelled' ? red(s) : yellow(s ?? '?')
  let progressShown = false
  /** Workflow names by run id (only the run's first events carry the name). */
  const names = new Map()
  const endProgress = () => {
    if (progressShown && tty) process.stdout.write('\r\x1b[K')
    progressShown = false
  }

  return {
    banner() {
      line(bold('stavily dev') + dim(' — the whole platform on this machine (Ctrl-C stops it)'))
    },
    step(s) {
      endProgress()
      line(`${cyan('▸')} ${s}`)
    },
    detail(s) {
      endProgress()
      line(`  ${dim(s)}`)
    },
    /** One line rewritten in place on a terminal (publish steps), plain lines otherwise. */
    progress(s) {
      if (tty) {
        process.stdout.write(`\r\x1b[K  ${dim(`… ${s}`)}`)
        progressShown = true
      } else line(`  … ${s}`)
    },
    error(s) {
      endProgress()
      process.stderr.write(`${red('✗')} ${s}\n`)
    },
    service(s) {
      line(`${time()} ${magenta('service')}  ${s}`)
    },
    webhook(body) {
      const text = body?.text ?? body?.blocks?.[0]?.text?.text ?? JSON.stringify(body)
      line(`${time()} ${magenta('webhook')}  the receiver got: ${bold(String(text))}`)
    },
    /** Agent log lines (JSON): only warnings, errors and plugin swaps reach the terminal. */
    agentLine(name, raw) {
      let e
      try {
        e = JSON.parse(raw)
      } catch {
        return
      }
      if (e.level >= 40) line(`${time()} ${yellow(name)}  ${e.msg}${e.error ? `: ${e.error}` : ''}`)
      else if (/plugin (loaded|hot-swapped)/.test(e.msg ?? ''))
        line(`${time()} ${dim(name)}  ${e.msg}: ${e.plugin}@${e.version ?? e.to}`)
    },
    ready(r) {
      endProgress()
      line('')
      line(bold('Stavily is running.'))
      line(`  dashboard      ${r.operatorUrl}/               (sign in with: cat ${r.tokenFile})`)
      line(`  operator API   ${r.operatorUrl}/api/v1        (token: cat ${r.tokenFile})`)
      line(`  API docs       ${r.operatorUrl}/docs           (OpenAPI: ${r.operatorUrl}/openapi.json)`)
      line(
        `  event stream   curl -N -H "Authorization: Bearer $(cat ${r.tokenFile})" ${r.operatorUrl}/api/v1/stream`,
      )
      line(`  agent API      ${r.agentUrl}/agents/v1`)
      line(
        `  CLI            npx stavily login --url ${r.operatorUrl} < ${r.tokenFile}   (after npm run build once)`,
      )
      line(`  demo service   ${r.service.web}/health   (control: ${r.service.control}/state)`)
      line(`  webhook recv.  ${r.receiver}`)
      line(`  logs           ${r.logs}/`)
      line(
        `  grants         dev agents grant curl, 127.0.0.1, /tmp/stavily; add yours: STAVILY_DEV_ACTION_GRANTS="--allow-command df" npm run dev`,
      )
      line('')
      line(
        `The demo breaks the web service ${r.failAfterS} s after the sensor agent has seen it healthy. Then watch: http-check notices, restart-service brings it back, webhook and log report it.`,
      )
      line(dim(tty ? 'Press f to break it again, q or Ctrl-C to stop.' : 'Ctrl-C stops.'))
      line('')
    },
    /** One live-stream event. */
    event(type, d) {
      endProgress()
      const error = d.error
        ? ` — ${d.error.code ? `${d.error.code}: ` : ''}${d.error.message ?? d.error}`
        : ''
      if (type === 'run') {
        if (d.workflow) names.set(d.runId, d.workflow)
        const id = String(d.runId ?? d.id ?? '').slice(0, 8)
        line(
          `${time()} ${cyan('run')}      ${id} ${names.get(d.runId) ?? ''} ${statusColour(d.status)}${error}`,
        )
      } else if (type === 'step') {
        const id = String(d.runId ?? '').slice(0, 8)
        const attempt = d.attempt > 1 ? ` (attempt ${d.attempt})` : ''
        const reason = d.reason ? ` (${d.reason})` : ''
        line(
          `${time()} ${cyan('step')}     ${id} ${bold(d.step ?? d.stepId ?? '?')} ${statusColour(d.status)}${attempt}${reason}${error}`,
        )
      } else if (type === 'agent') {
        line(`${time()} ${dim('agent')}    ${d.name ?? d.id ?? ''} ${d.status ?? ''}`)
      }
    },
    /** A finished run: each step's status, attempts and output (or error). */
    runSummary(run) {
      line(`${time()} ${bold('run finished')} ${String(run.id).slice(0, 8)} ${statusColour(run.status)}`)
      for (const s of run.steps ?? []) {
        const attempts = s.attempt > 1 ? ` after ${s.attempt} attempts` : ''
        const detail = s.error
          ? ` — ${s.error.code}: ${s.error.message}`
          : s.output != null
            ? `  ${dim(clip(JSON.stringify(s.output), 110))}`
            : ''
        line(`           ${String(s.stepId ?? '?').padEnd(8)} ${statusColour(s.status)}${attempts}${detail}`)
        // The step's plugin log lines (ctx.log, command stderr): the last few, the rest by CLI.
        const logs = s.logs ?? []
        for (const l of logs.slice(-LOG_LINES_PER_STEP)) {
          const text = `${l.source === 'exec' ? '[exec] ' : ''}${String(l.message).split('\n')[0]}`
          line(`             ${dim(String(l.level).padEnd(5))} ${clip(text, 110)}`)
        }
        if (logs.length > LOG_LINES_PER_STEP)
          line(
            `             ${dim(`(${logs.length - LOG_LINES_PER_STEP} more: stavily run logs ${run.id} ${s.stepId})`)}`,
          )
      }
    },
    /**
     * After the demo's first run: how to point each sensor at a real system. The plugins are
     * already published and enabled in the default pool; a target is a workflow's config
     * plus a grant for the dev sensor agent (its flags, or a config file for connections).
     */
    nextSteps() {
      const rows = [
        ['http-check', 'config.url: https://your-service/health', '--allow-host your-service:443'],
        ['prometheus-query', 'config.url: http://prometheus:9090, query', '--allow-host prometheus:9090'],
        ['log-file', 'config.path: /var/log/nginx/error.log', '--allow-read /var/log/nginx'],
        ['file-watch', 'config.paths: [/etc/nginx]', '--allow-read /etc/nginx'],
        [
          'host-metrics',
          'config.thresholds: { memoryPercent: 90 }',
          '--allow-read /proc/stat --allow-read /proc/meminfo --allow-read /proc/loadavg --allow-command df',
        ],
        [
          'git-poll',
          'config.url: https://git.example.com/app.git, mirror: /var/lib/stavily/git',
          '--allow-command git --allow-read /var/lib/stavily/git',
        ],
      ]
      line('')
      line(bold('Point it at your own systems') + dim(' (every plugin: docs/plugins.md)'))
      for (const [plugin, config, grant] of rows)
        line(`  ${plugin.padEnd(17)}${config.padEnd(44)}STAVILY_DEV_SENSOR_GRANTS="${grant}"`)
      line(
        `  ${'postgres'.padEnd(17)}${'config.connection: a name in grants.sql'.padEnd(44)}STAVILY_AGENT_CONFIG=agent.json (docs/deploying-agents.md)`,
      )
      line(
        `  ${'alerts, pushes'.padEnd(17)}trigger.webhook.provider: alertmanager | github | gitlab | gitea (docs/workflows.md)`,
      )
      line(
        `  A host on a private network also needs --allow-private-network. Write a workflow like scripts/demo/workflow.yaml and apply it: npx stavily workflow apply my.yaml`,
      )
      line('')
    },
    /** A line the log output appended to its file. */
    logLine(entry) {
      line(
        `${time()} ${magenta('log')}      ${entry.message}${entry.fields ? ` ${dim(JSON.stringify(entry.fields))}` : ''}`,
      )
    },
  }
}
