import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import pg from 'pg'
import { RUN_TAG_ENV } from './run-names.ts'

// Vitest global setup: the run ends with a check that fails when the suite left anything
// behind. What the suite names carries this run's tag (test/run-names.ts), so the check
// counts exactly this run's leftovers even while other runs share the machine:
// - schemas whose name holds `_<tag>_` (with their `_boss` and `_registry` siblings),
// - Redis keys whose name holds `_<tag>_` (every test prefix is named after its schema),
// - `stavily-*` folders in the run's own temp folder: TMPDIR points there for the workers
//   and every process they start, so os.tmpdir() there holds only what this run made.
// Leftovers are listed, removed (so one failed run does not leak into the next) and fail
// the run.

const MAX_LISTED = 20

export async function setup(): Promise<() => Promise<void>> {
  const tag = randomBytes(3).toString('hex')
  const previousTmp = process.env.TMPDIR
  const runTmp = join(tmpdir(), `stavily-run-${tag}`)
  mkdirSync(runTmp)
  process.env[RUN_TAG_ENV] = tag
  process.env.TMPDIR = runTmp

  return async () => {
    const left: string[] = []
    // Tools (tsx's cache, for one) write there too: only what the suite names is counted.
    const folders = readdirSync(runTmp).filter((n) => n.startsWith('stavily-'))
    left.push(...folders.map((n) => `temp folder ${n}`))
    if (process.env.DATABASE_URL) left.push(...(await leftSchemas(process.env.DATABASE_URL, tag)))
    if (process.env.REDIS_URL) left.push(...(await leftKeys(process.env.REDIS_URL, tag)))
    rmSync(runTmp, { recursive: true, force: true })
    if (previousTmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previousTmp
    if (left.length > 0) {
      const shown = left.slice(0, MAX_LISTED).join('\n  ')
      const more = left.length > MAX_LISTED ? `\n  … and ${left.length - MAX_LISTED} more` : ''
      const message = `leak check: the suite left ${left.length} things behind (now removed); clean them up in the helper or test that makes them:\n  ${shown}${more}`
      // Vitest reports an error thrown here but keeps its exit code: set the failure too.
      process.exitCode = 1
      throw new Error(message)
    }
  }
}

async function leftSchemas(url: string, tag: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const { rows } = await c.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE strpos(nspname, $1) > 0 ORDER BY 1`,
      [`_${tag}_`],
    )
    for (const { name } of rows) await c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
    return rows.map((r) => `schema ${r.name}`)
  } finally {
    await c.end()
  }
}

async function leftKeys(url: string, tag: string): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  try {
    const found: string[] = []
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*_${tag}_*`, 'COUNT', 1000)
      cursor = next
      found.push(...keys)
    } while (cursor !== '0')
    const listed = await Promise.all(
      found.sort().map(async (k) => `Redis key ${k}${(await redis.pttl(k)) === -1 ? ' (no TTL)' : ''}`),
    )
    if (found.length > 0) await redis.del(...found)
    return listed
  } finally {
    redis.disconnect()
  }
}
