// Dev versions and dev pools (`stavily plugin dev`): a working tree's build is published as
// a prerelease `<version>-dev.<n>` and runs only in a dev pool, one named `dev` or
// `dev-<anything>`. A name, not a setting, on purpose: it shows on every command, agent
// and log line, cannot be flipped by a stray API call, and both ends check it on their
// own (the orchestrator never puts a dev version in another pool's desired set; an agent
// of another pool refuses to load one), so a dev build cannot reach production agents.

/** The prerelease tag of dev versions: `1.2.0-dev.1733580000000`. */
export const DEV_PRERELEASE = 'dev'

const DEV_POOL = /^dev(-.+)?$/
const DEV_VERSION = /^\d+\.\d+\.\d+-dev\.\d+$/

/** `dev`, `dev-alice`: pools that may run dev versions. */
export function isDevPool(pool: string): boolean {
  return DEV_POOL.test(pool)
}

/** `0.1.0-dev.1733580000000`: a build of a working tree, not a release. */
export function isDevVersion(version: string): boolean {
  return version.includes(`-${DEV_PRERELEASE}.`) && DEV_VERSION.test(version.split('+')[0] ?? '')
}
