// `npm run dev`: the whole platform on this machine, one command, nothing else running.
//
//   orchestrator   PGlite in .stavily/data and in-process fleet state (or PostgreSQL / Redis
//                  when DATABASE_URL / REDIS_URL are set), on http://127.0.0.1:8080
//   registry       the first-party plugins published from Git (a snapshot of plugins/)
//   agents         one sensor agent and one action agent, separate processes
//   dashboard      the web dashboard at http://127.0.0.1:8080/, served by the orchestrator
//                  (built once when dashboard/build is missing)
//   demo           a web service the demo breaks, a webhook receiver, and the workflow
//                  scripts/demo/workflow.yaml: service fails → http-check notices →
//                  restart-service brings it back → webhook and log report it
//
// Press f to break the service again, q or Ctrl-C to stop (children first, then the
// orchestrator). Settings (environment): STAVILY_PORT (8080), STAVILY_DEV_DIR (.stavily),
// STAVILY_DEMO_FAIL_AFTER (seconds before the first failure, 10), STAVILY_DEMO_FAIL_EVERY
// (seconds between failures, 0 = only on f), STAVILY_DEMO_EXIT_AFTER_RUNS (stop after that
// many finished runs; tests use it), STAVILY_DEV_ACTION_GRANTS and STAVILY_DEV_SENSOR_GRANTS
// (extra --allow-* flags for the dev agents: your plugin's commands, hosts, paths),
// DATABASE_URL, REDIS_URL, STAVILY_SCHEMA.
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, unwatchFile, watchFile, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { emitKeypressEvents } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { operatorApi } from './demo/api.mjs'
import { devAgentGrants } from './demo/dev-grants.mjs'
import { createPrinter } from './demo/print.mjs'
import { fromSource, startProcess } from './demo/processes.mjs'
import { firstPartyPlugins, snapshotPlugins } from './demo/snapshot.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const env = process.env
const devDir = resolve(env.STAVILY_DEV_DIR ?? join(root, '.stavily'))
const port = Number(env.STAVILY_PORT ?? 8080)
const failAfterS = Number(env.STAVILY_DEMO_FAIL_AFTER ?? 10)
const failEveryS = Number(env.STAVILY_DEMO_FAIL_EVERY ?? 0)
const exitAfterRuns = Number(env.STAVILY_DEMO_EXIT_AFTER_RUNS ?? 0)
// Checked before anything starts: a typo in a grant fails at once, naming the variable.
const extraGrants = devAgentGrants(env)
const out = createPrinter(process.stdout.isTTY === true)
/** The log plugin may write only under /var/log/stavily or /tmp/stavily (its manifest). */
const LOG_DIR = '/tmp/stavily'
const logFile = join(LOG_DIR, `demo-runs-${port}.jsonl`)
const logs = join(devDir, 'logs')
mkdirSync(logs, { recursive: true })

/** Every process we started, in start order; stopped in reverse (the orchestrator last). */
const started = []
let stopping = false
let failTimer
const abort = new AbortController()

async function shutdown(code) {
  if (stopping) return
  stopping = true
  clearInterval(failTimer)
  clearTimeout(failTimer)
  unwatchFile(logFile)
  abort.abort()
  out.step('stopping: agents and demo processes first, then the orchestrator…')
  for (const p of started.slice().reverse()) {
    await p.stop()
    out.detail(`${p.name} stopped`)
  }
  if (process.stdin.isTTY) process.stdin.setRawMode(false)
  process.exit(code)
}
process.on('SIGINT', () => (stopping ? forceQuit() : void shutdown(0)))

/** Starts a child, unless stopping: one started after shutdown began would be left running. */
function launch(name, args, options) {
  if (stopping) throw new Error('stopping')
  return startProcess(name, args, options)
}
process.on('SIGTERM', () => void shutdown(0))
function forceQuit() {
  for (const p of started) p.kill()
  process.exit(130)
}

async function main() {
  out.banner()

  // 1. The admin token: chosen here on the first start (the orchestrator accepts it as its
  // bootstrap token) and kept in the dev folder, so later runs on the same data reuse it.
  const tokenFile = join(devDir, 'admin-token')
  const dataDir = join(devDir, 'data')
  let adminToken =
    env.STAVILY_ADMIN_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined)
  const firstStart = adminToken === undefined
  if (firstStart) {
    adminToken = `stv_admin_${randomBytes(32).toString('base64url')}`
    // Agents enrolled against an earlier database would hold credentials it does not know.
    rmSync(join(devDir, 'agents'), { recursive: true, force: true })
    if (!env.DATABASE_URL) rmSync(dataDir, { recursive: true, force: true })
    writeFileSync(tokenFile, `${adminToken}\n`, { mode: 0o600 })
  }
  mkdirSync(dataDir, { recursive: true })

  // 2. The dashboard's static files, which the orchestrator serves at /: built once (about
  // 20 s); `npm run build -w @stavily/dashboard` rebuilds it after a change.
  if (!existsSync(join(root, 'dashboard/build/index.html'))) {
    out.step('building the web dashboard (once)…')
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
      {
        cwd: join(root, 'dashboard'),
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
  }

  // 3. The orchestrator.
  const backend = env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${dataDir}`
  const fleet = env.REDIS_URL ? 'Redis (REDIS_URL)' : 'in-process fleet state'
  out.step(`starting the orchestrator on ${backend}, ${fleet}…`)
  const core = fromSource(root, 'core/src/main.ts')
  const orchestrator = launch('orchestrator', core.args, {
    env: {
      ...core.env,
      STAVILY_DATA_DIR: dataDir,
      STAVILY_PORT: String(port),
      STAVILY_BOOTSTRAP_TOKEN: adminToken,
      // The first-party plugins are published from a local snapshot (a file:// URL); only
      // the dev platform allows that, a real registry refuses file:// by default.
      STAVILY_REGISTRY_ALLOW_FILE: '1',
    },
    logFile: join(logs, 'orchestrator.log'),
    onLine: (line) => {
      if (/EADDRINUSE/.test(line))
        out.error(`port ${port} is in use: stop what runs there, or run STAVILY_PORT=8090 npm run dev`)
    },
  })
  started.push(orchestrator)
  const ready = JSON.parse(await orchestrator.ready((l) => l.startsWith('{') && l.includes('"ready":true')))
  const operatorUrl = ready.operatorUrl ?? ready.agentUrl
  // Aborted on Ctrl-C: a request in flight (a publish streams for seconds) would otherwise
  // hold the orchestrator's graceful shutdown until it ended.
  const api = operatorApi(operatorUrl, adminToken, abort.signal)
  try {
    await api.get('/plugins')
  } catch (err) {
    if (err.status === 401)
      throw new Error(
        `the database was set up by an earlier run whose admin token is not in ${tokenFile}. ` +
          `Remove ${devDir} (PGlite) or point STAVILY_SCHEMA at a fresh schema (PostgreSQL), or set STAVILY_ADMIN_TOKEN.`,
      )
    throw err
  }
  out.detail(`up (pid ${ready.pid}); log: ${orchestrator.logFile}`)

  // 4. The demo service and the webhook receiver.
  // The same ports as last time when they are free: the workflow then stays the same
  // document, and a sensor agent that restarts with its cached assignment checks the
  // service that runs now, not a port nobody listens on any more.
  const portsFile = join(devDir, 'demo-ports.json')
  const last = existsSync(portsFile) ? (safeJson(readFileSync(portsFile, 'utf8')) ?? {}) : {}
  const reuse = async (p) => (Number.isInteger(p) && (await portIsFree(p)) ? String(p) : '0')
  const demo = launch(
    'demo service',
    [join(root, 'scripts/demo/service.mjs'), await reuse(last.web), await reuse(last.control)],
    {
      logFile: join(logs, 'demo-service.log'),
      onLine: (line) => {
        const e = safeJson(line)
        if (e?.event === 'restarted') out.service(`restarted (restart #${e.restarts}): healthy again`)
      },
    },
  )
  started.push(demo)
  const service = JSON.parse(await demo.ready((l) => l.includes('"ready":true')))
  const receiverProc = launch(
    'webhook receiver',
    [join(root, 'scripts/demo/receiver.mjs'), await reuse(last.receiver)],
    {
      logFile: join(logs, 'receiver.log'),
      onLine: (line) => {
        const e = safeJson(line)
        if (e?.received) out.webhook(e.received)
      },
    },
  )
  started.push(receiverProc)
  const receiver = JSON.parse(await receiverProc.ready((l) => l.includes('"ready":true')))
  const portOf = (url) => Number(new URL(url).port)
  writeFileSync(
    portsFile,
    JSON.stringify({
      web: portOf(service.web),
      control: portOf(service.control),
      receiver: portOf(receiver.url),
    }),
  )

  // 5. The first-party plugins, published from Git and enabled for the default pool.
  out.step('publishing the first-party plugins from Git (clone → build → sign)…')
  const snapshot = snapshotPlugins(root, join(devDir, 'git'))
  out.detail(`repository ${snapshot.url} at ${snapshot.commit.slice(0, 12)}`)
  for (const p of firstPartyPlugins(root)) {
    let version = p.version
    try {
      const r = await api.publish({ repo: snapshot.url, ref: 'main', path: `plugins/${p.dir}` }, (step) =>
        out.progress(`${p.name}: ${step}`),
      )
      version = r.version.version
      out.detail(
        `${p.name}@${version} ${r.status === 'unchanged' ? 'already published' : 'published'} (${r.version.digest.slice(0, 19)}…)`,
      )
    } catch (err) {
      // A plugin edited without a version bump: a published version never changes, so the
      // registry keeps the earlier build. Say so and go on with it.
      if (
        err.body?.code !== 'STAVILY_ERR_REGISTRY_VERSION_EXISTS' &&
        err.body?.error?.code !== 'STAVILY_ERR_REGISTRY_VERSION_EXISTS'
      )
        throw err
      out.detail(
        `${p.name}@${version}: changed since it was published; bump its version to publish the change (the published build runs)`,
      )
    }
    await api.post('/plugins/enable', { name: p.name, pool: 'default', range: `^${version}` })
  }

  // 6. The demo workflow, before the agents start: their first sync sees this version.
  const document = readFileSync(join(root, 'scripts/demo/workflow.yaml'), 'utf8')
    .replaceAll('__WEB_URL__', service.web)
    .replaceAll('__CONTROL_URL__', service.control)
    .replaceAll('__RECEIVER_URL__', receiver.url)
    .replaceAll('__LOG_FILE__', logFile)
  const applied = await api.post('/workflows', { document })
  await api.post(`/workflows/${encodeURIComponent(applied.workflow.name)}/enable`)
  out.detail(
    `workflow ${applied.workflow.name} applied (version ${applied.version}) from scripts/demo/workflow.yaml`,
  )

  // 7. One sensor agent and one action agent.
  out.step('starting a sensor agent and an action agent…')
  // The registry's root of trust, handed to the agents as a file (out of band, as in
  // production) instead of trusting whatever they fetch on their first start.
  const trustedRoot = join(devDir, 'registry-root.json')
  const rootAnswer = await fetch(`${api.base}/registry/tuf/1.root.json`)
  if (!rootAnswer.ok) throw new Error(`GET /api/v1/registry/tuf/1.root.json: HTTP ${rootAnswer.status}`)
  writeFileSync(trustedRoot, await rootAnswer.text())
  // The first-party plugins leave their hosts and commands to the operator ("$granted"):
  // these grants are all they reach (the demo's loopback services, and curl for the restart).
  const agents = [
    { name: 'dev-sensor', kind: 'sensor', grants: ['--allow-host', '127.0.0.1', ...extraGrants.sensor] },
    {
      name: 'dev-action',
      kind: 'action',
      grants: [
        ...['--allow-host', '127.0.0.1', '--allow-command', 'curl'],
        // The log output appends to a file under /tmp/stavily (a folder its manifest declares).
        ...['--allow-read', LOG_DIR, '--allow-write', LOG_DIR],
        // Your plugin's: STAVILY_DEV_ACTION_GRANTS (dev-grants.mjs).
        ...extraGrants.action,
      ],
    },
  ]
  for (const a of agents) {
    const dir = join(devDir, 'agents', a.name)
    const enrolled = existsSync(join(dir, 'credential.json'))
    const token = enrolled
      ? undefined
      : (await api.post('/enrollment-tokens', { kind: a.kind, pool: 'default', uses: 1 })).token
    const run = fromSource(root, 'agent-runtime/src/agent/main.ts')
    const agent = launch(
      a.name,
      [
        ...run.args,
        '--orchestrator',
        ready.agentUrl,
        '--data-dir',
        dir,
        '--name',
        a.name,
        '--kind',
        a.kind,
        '--pool',
        'default',
        '--trusted-root',
        trustedRoot,
        ...(token ? ['--enrollment-token', token] : []),
        ...a.grants,
      ],
      {
        env: { ...run.env, STAVILY_LOG_LEVEL: 'info' },
        logFile: join(logs, `${a.name}.log`),
        onLine: (line) => out.agentLine(a.name, line),
      },
    )
    started.splice(1, 0, agent) // after the orchestrator: stopped before it
    await agent.ready((l) => /"msg":"(enrolled|starting with the stored credential)"/.test(l), 60_000)
    out.detail(
      `${a.name} (${a.kind}) ${token ? 'enrolled' : 'started with its stored credential'}; log: ${agent.logFile}`,
    )
  }

  out.ready({
    operatorUrl,
    agentUrl: ready.agentUrl,
    service,
    receiver: receiver.url,
    tokenFile,
    logs,
    failAfterS,
  })

  // The log output's file, printed as it grows (and read once more when a run finishes,
  // so its line comes before the run's summary).
  mkdirSync(LOG_DIR, { recursive: true })
  let logLines = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean).length : 0
  const printNewLogLines = () => {
    if (!existsSync(logFile)) return
    const all = readFileSync(logFile, 'utf8').split('\n').filter(Boolean)
    // The plugin drops the oldest lines past its size bound: never print a line twice.
    for (const l of all.slice(Math.min(logLines, all.length))) {
      const entry = safeJson(l)
      if (entry) out.logLine(entry)
    }
    logLines = all.length
  }
  watchFile(logFile, { interval: 300 }, printNewLogLines)

  // 8. The run as it happens: the live stream, and each finished run's steps.
  let finished = 0
  const printed = new Set()
  void api
    .follow(async (type, data) => {
      out.event(type, data)
      const status = data.status ?? data.run?.status
      const runId = data.runId ?? data.run?.id ?? data.id
      if (type === 'run' && ['succeeded', 'failed', 'cancelled'].includes(status) && !printed.has(runId)) {
        printed.add(runId)
        printNewLogLines()
        try {
          out.runSummary(await api.get(`/runs/${runId}`))
        } catch (err) {
          out.error(`could not read run ${runId}: ${err.message}`)
        }
        if (printed.size === 1) out.nextSteps()
        if (exitAfterRuns > 0 && ++finished >= exitAfterRuns) void shutdown(status === 'succeeded' ? 0 : 1)
      }
    }, abort.signal)
    .catch((err) => {
      if (!stopping) out.error(`the event stream ended: ${err.message}`)
    })

  // 9. Break the service: after a while, on a timer if asked, and on f.
  const breakIt = async (why) => {
    out.service(`breaking the web service (${why}): /health answers 503 now`)
    await fetch(`${service.control}/fail`, { method: 'POST' }).catch((err) => out.error(err.message))
  }
  // The countdown starts once the sensor has seen the service healthy twice: http-check
  // reports changes, and its state (kept by the agent across restarts) may still say
  // "down" from the last session; a failure it never saw recover would start no run.
  const seenHealthy = async () => {
    const first = await demoState()
    for (let i = 0; i < 240 && !stopping; i++) {
      const now = await demoState()
      if (now.healthy && now.checks >= first.checks + 2) return
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  const demoState = async () => {
    try {
      return await (await fetch(`${service.control}/state`)).json()
    } catch {
      return { healthy: false, checks: 0 }
    }
  }
  void seenHealthy().then(() => {
    if (stopping) return
    failTimer = setTimeout(() => {
      void breakIt('demo timer')
      if (failEveryS > 0) failTimer = setInterval(() => void breakIt('demo timer'), failEveryS * 1000)
    }, failAfterS * 1000)
  })
  if (process.stdin.isTTY) {
    emitKeypressEvents(process.stdin)
    process.stdin.setRawMode(true)
    process.stdin.on('keypress', (_s, key) => {
      // Raw mode turns Ctrl-C into a key, not a signal: the same rules as SIGINT (twice forces).
      if (key?.ctrl && key.name === 'c') stopping ? forceQuit() : void shutdown(0)
      else if (key?.name === 'q') void shutdown(0)
      else if (key?.name === 'f') void breakIt('you pressed f')
    })
  }
  // A child that dies on its own ends the demo: it would not work without it.
  for (const p of started) {
    void p.exited.then(({ code, signal }) => {
      if (stopping) return
      out.error(`${p.name} exited (code ${code}, signal ${signal}); last lines:\n${p.tail()}`)
      void shutdown(1)
    })
  }
}

/** Whether `port` can be listened on at 127.0.0.1 right now. */
function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

function safeJson(line) {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

main().catch(async (err) => {
  // Ctrl-C during the start: what was in flight fails (aborted, or its process stopped);
  // the shutdown already under way reports and exits.
  if (stopping) return
  out.error(err.message)
  for (const p of started) if (!p.running) out.error(`${p.name}: last lines:\n${p.tail()}`)
  await shutdown(1)
})
