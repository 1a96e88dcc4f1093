// Prints the mutation score per module group and file from Stryker's JSON reports
// (reports/mutation/<group>.json), plus the total, and names the groups below their
// threshold. `node scripts/mutation-report.mjs [group...]` reprints the last run's figures.
//
// Score as Stryker counts it: killed + timed out, over every mutant that ran or had no test
// reaching it (ignored mutants and ones that did not compile or crashed at load are left out).
import { existsSync, readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GROUPS } from './mutation-groups.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const reportFile = (group) => `${root}reports/mutation/${group}.json`

function count(mutants) {
  const c = { killed: 0, survived: 0, noCoverage: 0, timeout: 0, invalid: 0 }
  for (const m of mutants) {
    if (m.status === 'Killed') c.killed++
    else if (m.status === 'Timeout') c.timeout++
    else if (m.status === 'Survived') c.survived++
    else if (m.status === 'NoCoverage') c.noCoverage++
    else if (m.status !== 'Ignored') c.invalid++
  }
  return c
}

const add = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] + b[k]]))
const detected = (c) => c.killed + c.timeout
const valid = (c) => c.killed + c.timeout + c.survived + c.noCoverage
const score = (c) => (valid(c) === 0 ? Number.NaN : (100 * detected(c)) / valid(c))
const pct = (n) => (Number.isNaN(n) ? 'n/a' : `${n.toFixed(1)} %`)

function row(label, c) {
  return [
    label.padEnd(58),
    String(c.killed).padStart(6),
    String(c.timeout).padStart(7),
    String(c.survived).padStart(8),
    String(c.noCoverage).padStart(7),
    String(c.invalid).padStart(6),
    pct(score(c)).padStart(8),
  ].join(' ')
}

/** Prints the table for `groups`; returns the groups scoring below their `break`. */
export function printReport(groups = Object.keys(GROUPS)) {
  const below = []
  const missing = []
  let total = { killed: 0, survived: 0, noCoverage: 0, timeout: 0, invalid: 0 }
  const head = [
    'module'.padEnd(58),
    'killed'.padStart(6),
    'timeout'.padStart(7),
    'survived'.padStart(8),
    'no cov'.padStart(7),
    'error'.padStart(6),
    'score'.padStart(8),
  ].join(' ')
  console.log(`\n${head}`)
  for (const group of groups) {
    const file = reportFile(group)
    if (!existsSync(file)) {
      missing.push(group)
      continue
    }
    const report = JSON.parse(readFileSync(file, 'utf8'))
    let sum = { killed: 0, survived: 0, noCoverage: 0, timeout: 0, invalid: 0 }
    const lines = []
    for (const [name, f] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
      const c = count(f.mutants)
      sum = add(sum, c)
      lines.push(row(`  ${relative(root, name.startsWith('/') ? name : `${root}${name}`)}`, c))
    }
    total = add(total, sum)
    const threshold = GROUPS[group].break
    const ok = threshold === null || !(score(sum) < threshold)
    if (!ok) below.push(group)
    const limit = threshold === null ? 'no threshold yet' : `break ${threshold} %`
    console.log(row(`${group} (${limit})${ok ? '' : ' BELOW THRESHOLD'}`, sum))
    for (const line of lines) console.log(line)
  }
  console.log(row('total', total))
  if (missing.length > 0) console.log(`no report yet for: ${missing.join(', ')} (run them first)`)
  return below
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const named = process.argv.slice(2)
  const below = printReport(named.length > 0 ? named : Object.keys(GROUPS))
  if (below.length > 0) process.exitCode = 1
}
