// The demo's webhook receiver: prints each JSON body it gets, as a chat channel would show it.
//
// Run alone:  node scripts/demo/receiver.mjs [port]
// It prints {"ready":true,"url":URL} once it listens, then one {"received":…} line per POST.
import { createServer } from 'node:http'

const server = createServer((req, res) => {
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (chunk) => {
    // A receiver for a demo, not a sink for anything: 1 MiB is plenty for a notification.
    if (body.length < 1_048_576) body += chunk
  })
  req.on('end', () => {
    let parsed
    try {
      parsed = JSON.parse(body)
    } catch {
      parsed = body
    }
    process.stdout.write(
      `${JSON.stringify({ received: parsed, path: req.url, idempotencyKey: req.headers['idempotency-key'] ?? null })}\n`,
    )
    res.writeHead(204).end()
  })
})
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ ready: true, url: `http://127.0.0.1:${server.address().port}` })}\n`,
  )
})
const stop = () => {
  server.close()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
