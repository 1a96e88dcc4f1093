// The agent's own allow list of plugins: which names (glob patterns) and versions (semver
// ranges) it will load, whatever the orchestrator asks for. The orchestrator can narrow
// what an agent runs (by pool and grants), never widen it past this list: a compromised or
// misconfigured orchestrator cannot make this host run a plugin its operator did not allow.
import semver from 'semver'
import { configError } from './errors.ts'

export interface PluginRule {
  /** As written, for messages: `@acme/*@^1.2.0`. */
  text: string
  name: RegExp
  /** A semver range; `*` when the rule names no version. */
  range: string
}

/** An empty list allows every plugin (the policy is off). */
export type LocalPolicy = PluginRule[]

/**
 * Reads `NAME_PATTERN` or `NAME_PATTERN@RANGE` entries: `*` matches any run of characters
 * (the scope's `/` included), `?` one character; the range is a semver range
 * (`^1.2.0`, `>=1 <3`, `1.x`). The version part starts at the last `@` that is not the
 * first character, so scoped names need no quoting: `@stavily/plugin-*@^1`.
 */
export function parsePolicy(entries: string[], where: string): LocalPolicy {
  return entries.map((text, i) => {
    const at = text.lastIndexOf('@')
    const pattern = (at > 0 ? text.slice(0, at) : text).trim()
    const range = at > 0 ? text.slice(at + 1).trim() : '*'
    if (pattern === '' || /\s/.test(pattern))
      throw configError(
        `${where}[${i}]`,
        `expected NAME_PATTERN or NAME_PATTERN@RANGE (e.g. "@acme/*@^1.0.0"), got ${JSON.stringify(text)}`,
      )
    if (semver.validRange(range) === null)
      throw configError(
        `${where}[${i}]`,
        `"${range}" is not a semver range (e.g. ^1.2.0, >=1 <3, 1.x) in ${JSON.stringify(text)}`,
      )
    return { text, name: globToRegExp(pattern), range }
  })
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('')
  return new RegExp(`^${body}$`)
}

/**
 * Why `name@version` may not be loaded, or undefined when a rule allows it. Prerelease
 * versions match a range only when the range names one (semver's own rule).
 */
export function policyRefusal(policy: LocalPolicy, name: string, version: string): string | undefined {
  if (policy.length === 0) return undefined
  const byName = policy.filter((r) => r.name.test(name))
  if (byName.length === 0)
    return `plugin ${name} is not on this agent's allow list (${policy.map((r) => r.text).join(', ')}); add it with --allow-plugin or allowPlugins in the agent's configuration`
  if (byName.some((r) => semver.satisfies(version, r.range))) return undefined
  return `plugin ${name}@${version} is outside the versions this agent allows (${byName.map((r) => r.text).join(', ')}); widen the range in --allow-plugin / allowPlugins, or pin the pool to an allowed version`
}
