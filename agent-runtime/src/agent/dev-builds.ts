// The agent's own half of "dev builds run only in dev pools" (the orchestrator's half
// refuses to put one in another pool's desired set): an agent enrolled in a pool that is
// not a dev pool refuses to load a dev version, whatever its desired set says.
import { isDevPool, isDevVersion } from '@stavily/protocol'

/** Why this agent will not load `name@version`, or undefined. */
export function devBuildRefusal(pool: string | undefined, name: string, version: string): string | undefined {
  if (!isDevVersion(version) || (pool !== undefined && isDevPool(pool))) return undefined
  return `${name}@${version} is a dev build (stavily plugin dev) and this agent's pool ${pool ?? '(unknown)'} is not a dev pool (dev or dev-*); it runs only released versions`
}
