// `npm run bench` runs every benchmark; `npm run bench -- NAME [NAME…]` runs some.
// BENCH_QUICK=1 runs each in its reduced form. See shared/BENCHMARKS.md.
import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type Benchmark, formatTable, writeResult } from './lib.ts'

const root = fileURLToPath(new URL('../', import.meta.url))
const folders = [
  'bench',
  'sdk/bench',
  'registry/bench',
  'agent-runtime/bench',
  'core/bench',
  'dashboard/bench',
  'e2e/bench',
]

function discover(): Map<string, string> {
  const found = new Map<string, string>()
  for (const folder of folders) {
    const dir = `${root}${folder}`
    if (!existsSync(dir)) continue
    for (const file of readdirSync(dir)) {
      if (!file.endsWith('.ts') || file === 'run.ts' || file === 'lib.ts' || file.endsWith('.test.ts'))
        continue
      found.set(file.slice(0, -3), `${dir}/${file}`)
    }
  }
  return found
}

const all = discover()
const wanted = process.argv.slice(2)
const unknown = wanted.filter((n) => !all.has(n))
if (unknown.length > 0) {
  console.error(
    `unknown benchmark(s): ${unknown.join(', ')}; available: ${[...all.keys()].join(', ') || 'none'}`,
  )
  process.exit(2)
}
const quick = process.env.BENCH_QUICK === '1'
let failed = 0
for (const name of wanted.length > 0 ? wanted : [...all.keys()]) {
  const started = Date.now()
  console.log(`bench ${name}${quick ? ' (quick)' : ''}: running…`)
  try {
    const mod = (await import(pathToFileURL(all.get(name)!).href)) as { default: Benchmark }
    const report = await mod.default({ quick, progress: (m) => console.log(`  ${name}: ${m}`) })
    console.log(formatTable(name, report))
    console.log(
      `  wrote ${writeResult(name, quick, report)} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    )
  } catch (err) {
    failed++
    console.error(`bench ${name} failed:`, err)
  }
}
process.exit(failed > 0 ? 1 : 0)
