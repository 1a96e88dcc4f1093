// Builds this plugin as the registry does and runs it from an empty ECMAScript realm
// (see ../../bundle-check.ts).
import { testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import { copyingOut, itBundlesForTheSandbox, loadBundle } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('http-check bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'sensor')

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
