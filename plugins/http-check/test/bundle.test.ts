// Builds this plugin as the registry does and runs it from an empty ECMAScript realm
// (see ../../bundle-check.ts).
import { testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import { copyingOut, loadBundle, patterns } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('http-check bundle', () => {
  it('bundles without Node built-ins and defines a sensor in an empty realm', async () => {
    const { text, definition, kind } = await loadBundle(import.meta.url, pkg)
    expect(kind).toBe('sensor')
    expect(definition.kind).toBe('sensor')
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
    const { events } = await testSensor(copyingOut(definition) as never, {
      manifest: pkg,
      config: { url: 'http://localhost:8080/health' },
      fetch: { localhost: { status: 503 } },
    })
    expect(events.map((event) => event.type)).toEqual(['http-check.down'])
  })
})
