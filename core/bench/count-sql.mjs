// Preloaded into the benchmark's orchestrator process (node --import): counts every statement
// sent to PostgreSQL through node-postgres (the orchestrator's pool and pg-boss's alike),
// transaction control included. On SIGUSR2 it writes the count to STAVILY_BENCH_SQL_COUNT_FILE,
// so the benchmark can read statements per run around a phase; with STAVILY_BENCH_SQL_TRACE
// set it also writes, beside that file (".trace.<n>", n counting the signals), how often each statement's text was sent
// since the last signal, most frequent first (a profile of the round trips).
// Benchmark-only: nothing in the product loads it.
import { writeFileSync } from 'node:fs'
import pg from 'pg'

const file = process.env.STAVILY_BENCH_SQL_COUNT_FILE
if (file) {
  const trace = process.env.STAVILY_BENCH_SQL_TRACE ? new Map() : undefined
  let count = 0
  let signals = 0
  const query = pg.Client.prototype.query
  pg.Client.prototype.query = function (...args) {
    count++
    if (trace) {
      const q = args[0]
      const text = (typeof q === 'string' ? q : (q?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 160)
      trace.set(text, (trace.get(text) ?? 0) + 1)
    }
    return query.apply(this, args)
  }
  process.on('SIGUSR2', () => {
    if (trace) {
      const lines = [...trace].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${n}\t${t}`)
      writeFileSync(`${file}.trace.${++signals}`, `${lines.join('\n')}\n`)
      trace.clear()
    }
    writeFileSync(file, String(count))
  })
}
