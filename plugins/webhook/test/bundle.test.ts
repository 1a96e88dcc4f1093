// Builds this plugin as the registry does and runs it from an empty ECMAScript realm
// (see ../../bundle-check.ts).
import { testOutput } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import { copyingOut, loadBundle, patterns } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('webhook bundle', () => {
  it('bundles without Node built-ins and defines a output in an empty realm', async () => {
    const { text, definition, kind } = await loadBundle(import.meta.url, pkg)
    expect(kind).toBe('output')
    expect(definition.kind).toBe('output')
    expect(text).not.toMatch(/\brequire\(/)
  })

  it('uses only group-free schema patterns (nothing the agent could refuse as catastrophic backtracking)', async () => {
    const { definition } = await loadBundle(import.meta.url, pkg)
    for (const pattern of patterns(definition.schemas)) {
      expect(pattern, pattern).not.toMatch(/[()]/)
      expect(() => new RegExp(pattern, 'u'), pattern).not.toThrow()
    }
  })

  it('runs from the empty realm', async () => {
    const { definition } = await loadBundle(import.meta.url, pkg)
    const { output } = await testOutput(copyingOut(definition) as never, {
      manifest: pkg,
      config: { url: 'https://hooks.slack.com/services/T/B/X', format: 'slack' },
      input: { text: 'hello <world>' },
      fetch: { 'hooks.slack.com': { status: 200, body: 'ok' } },
    })
    expect(output).toEqual({ status: 200, format: 'slack' })
  })
})
