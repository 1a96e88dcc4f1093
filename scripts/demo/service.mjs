// The demo's web service: a tiny HTTP server whose health the demo breaks on purpose, and a
// control port a restart command can call, as an operator's process supervisor would offer.
//
//   GET  <web>/health          200 {"status":"ok"} while healthy, 503 while broken
//   GET  <web>/                a greeting (503 while broken)
//   POST <control>/fail        break it (health turns 503)
//   POST <control>/restart/web "restart" it: healthy again; counts restarts
//   GET  <control>/state       {"healthy", "restarts", "failures", "checks" (/health requests)}
//
// Run alone:  node scripts/demo/service.mjs [webPort] [controlPort]
// It prints one JSON line {"ready":true,"web":URL,"control":URL} once both listen.
import { createServer } from 'node:http'

const state = { healthy: true, restarts: 0, failures: 0, checks: 0 }

const web = createServer((req, res) => {
  if (req.url === '/health') state.checks++
  const body = state.healthy ? { status: 'ok' } : { status: 'broken', since: state.brokenSince }
  res.writeHead(state.healthy ? 200 : 503, { 'content-type': 'application/json' })
  res.end(JSON.stringify(req.url === '/health' ? body : { hello: 'from the demo service', ...body }))
})

const control = createServer((req, res) => {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  if (req.method === 'POST' && req.url === '/fail') {
    state.healthy = false
    state.failures++
    state.brokenSince = new Date().toISOString()
    process.stdout.write(`${JSON.stringify({ event: 'failed', ...state })}\n`)
    return reply(200, state)
  }
  if (req.method === 'POST' && req.url?.startsWith('/restart/')) {
    const unit = decodeURIComponent(req.url.slice('/restart/'.length))
    if (unit !== 'web') return reply(404, { error: `no service named ${unit}; this demo runs "web"` })
    state.healthy = true
    state.restarts++
    delete state.brokenSince
    process.stdout.write(`${JSON.stringify({ event: 'restarted', ...state })}\n`)
    return reply(200, state)
  }
  if (req.method === 'GET' && req.url === '/state') return reply(200, state)
  reply(404, { error: 'POST /fail, POST /restart/web or GET /state' })
})

const listen = (server, port) =>
  new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server.address().port))
  })

const webPort = await listen(web, Number(process.argv[2] ?? 0))
const controlPort = await listen(control, Number(process.argv[3] ?? 0))
process.stdout.write(
  `${JSON.stringify({ ready: true, web: `http://127.0.0.1:${webPort}`, control: `http://127.0.0.1:${controlPort}` })}\n`,
)
const stop = () => {
  web.close()
  control.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
