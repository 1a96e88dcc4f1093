// `npm run dev`: runs the platform on its embedded defaults — the orchestrator on PGlite
// in .stavily/data with in-process fleet state — or on PostgreSQL/Redis when DATABASE_URL /
// REDIS_URL are set. Builds first when the packages have not been built yet.
//
// What runs today: the orchestrator (agent API, part-1 operator routes, health, metrics).
// The agent process, the published first-party plugins and the demo workflow are not wired
// into this command yet; it says so when it starts.
import { execSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'

const entry = 'core/dist/main.js'
if (!existsSync(entry) || !existsSync('sdk/dist/index.js') || !existsSync('registry/dist/index.js')) {
  console.log('stavily dev: building the packages (first run; about a minute)…')
  execSync('npm run build', { stdio: 'inherit' })
}

const env = { ...process.env }
if (!env.DATABASE_URL) {
  env.STAVILY_DATA_DIR ??= '.stavily/data'
  mkdirSync(env.STAVILY_DATA_DIR, { recursive: true })
}
env.STAVILY_PORT ??= '8080'

const backend = env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${env.STAVILY_DATA_DIR}`
const fleet = env.REDIS_URL ? 'Redis (REDIS_URL)' : 'in-process'
console.log(`stavily dev: starting the orchestrator on ${backend}, fleet state ${fleet}…`)

const child = spawn(process.execPath, [entry], { env, stdio: ['ignore', 'pipe', 'inherit'] })
child.stdout.setEncoding('utf8')
let buffered = ''
child.stdout.on('data', (chunk) => {
  buffered += chunk
  let nl = buffered.indexOf('\n')
  while (nl >= 0) {
    const line = buffered.slice(0, nl)
    buffered = buffered.slice(nl + 1)
    nl = buffered.indexOf('\n')
    let ready
    try {
      ready = JSON.parse(line)
    } catch {
      console.log(line)
      continue
    }
    if (ready?.ready) {
      const base = ready.operatorUrl ?? ready.agentUrl
      console.log(`
stavily dev: the orchestrator is up.
  agent API      ${ready.agentUrl}/agents/v1
  operator API   ${base}/api/v1
  OpenAPI        ${base}/openapi.json
  health         ${base}/healthz   ${base}/readyz
  metrics        ${base}/metrics

Not wired into this command yet: agents, published first-party plugins and the demo
workflow (see the open issues). Ctrl-C stops the orchestrator cleanly.`)
    } else console.log(line)
  }
})

const forward = (signal) => child.kill(signal)
process.on('SIGINT', () => forward('SIGINT'))
process.on('SIGTERM', () => forward('SIGTERM'))
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
