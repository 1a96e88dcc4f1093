import { randomBytes } from 'node:crypto'

// Names of what a test run leaves outside its processes (database schemas, Redis keys)
// carry the run's tag, set once by the leak check's global setup and inherited by every
// worker: the check at the end counts exactly this run's leftovers, not those of another
// run on the same PostgreSQL and Redis.

export const RUN_TAG_ENV = 'STAVILY_TEST_RUN'

/** This run's tag (`x` when a file runs outside the configured global setup). */
export function runTag(): string {
  return process.env[RUN_TAG_ENV] ?? 'x'
}

/** A fresh lowercase identifier of this run: `<prefix>_<run>_<random>`, a valid schema name. */
export function runName(prefix: string): string {
  return `${prefix}_${runTag()}_${randomBytes(5).toString('hex')}`
}

/** Every Redis key a test writes starts with this (followed by its own schema or name). */
export const REDIS_TEST_PREFIX = 'test:'
