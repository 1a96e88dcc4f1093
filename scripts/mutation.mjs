// `npm run test:mutation [-- <group>... [--force]]`: runs Stryker once per module group
// (scripts/mutation-groups.mjs), one after another, then prints the score table
// (scripts/mutation-report.mjs). Incremental: only mutants in code or tests changed since
// the committed baseline (.stryker/<group>.json) are run again; --force reruns them all and
// rewrites the baseline. Exits 1 when a run fails or a group scores below its threshold.
import { spawnSync } from 'node:child_process'
import { GROUPS } from './mutation-groups.mjs'
import { printReport } from './mutation-report.mjs'

const args = process.argv.slice(2)
const flags = args.filter((a) => a.startsWith('--'))
const named = args.filter((a) => !a.startsWith('--'))
const unknown = named.filter((g) => !(g in GROUPS))
if (unknown.length > 0) {
  console.error(
    `unknown mutation group ${unknown.join(', ')}; the groups are: ${Object.keys(GROUPS).join(', ')}`,
  )
  process.exit(2)
}
const groups = named.length > 0 ? named : Object.keys(GROUPS)

// The suites run on PGlite and in-process Redis unless these are set; a mutation run tests
// the code's logic, not the backends, and the second backend would double its time.
const env = { ...process.env }
delete env.DATABASE_URL
delete env.REDIS_URL

const failed = []
for (const group of groups) {
  console.log(`\n== mutation group ${group}: ${GROUPS[group].title}`)
  const run = spawnSync('npx', ['stryker', 'run', 'stryker.config.mjs', ...flags], {
    stdio: 'inherit',
    env: { ...env, MUTATION_GROUP: group },
  })
  if (run.status !== 0) failed.push(group)
}

const belowThreshold = printReport(groups)
const bad = [...new Set([...failed, ...belowThreshold])]
if (bad.length > 0) {
  console.error(`\nmutation testing failed for: ${bad.join(', ')}`)
  process.exit(1)
}
