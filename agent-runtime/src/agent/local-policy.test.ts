import { describe, expect, it } from 'vitest'
import { parsePolicy, policyRefusal } from './local-policy.ts'

describe('the agent-local plugin allow list', () => {
  it('allows everything when empty', () => {
    expect(policyRefusal([], '@any/thing', '9.9.9')).toBeUndefined()
  })

  it('matches scoped names by glob and versions by semver range', () => {
    const policy = parsePolicy(['@stavily/plugin-*@^1.2.0', '@acme/echo'], 'allowPlugins')
    expect(policyRefusal(policy, '@stavily/plugin-http-check', '1.4.0')).toBeUndefined()
    expect(policyRefusal(policy, '@acme/echo', '7.0.0')).toBeUndefined()
    expect(policyRefusal(policy, '@stavily/plugin-http-check', '2.0.0')).toMatch(
      /@stavily\/plugin-http-check@2\.0\.0 is outside the versions this agent allows \(@stavily\/plugin-\*@\^1\.2\.0\)/,
    )
    expect(policyRefusal(policy, '@other/echo', '1.0.0')).toMatch(/not on this agent's allow list/)
    // A dot in the pattern is a dot, not "any character".
    expect(policyRefusal(parsePolicy(['a.b'], 'x'), 'axb', '1.0.0')).toMatch(/not on/)
  })

  it('names the entry of a bad range or pattern', () => {
    expect(() => parsePolicy(['@acme/x@not-a-range'], '--allow-plugin')).toThrow(
      /--allow-plugin\[0\]: "not-a-range" is not a semver range/,
    )
    expect(() => parsePolicy(['ok', 'two names'], 'allowPlugins')).toThrow(
      /allowPlugins\[1\]: expected NAME_PATTERN/,
    )
  })
})
