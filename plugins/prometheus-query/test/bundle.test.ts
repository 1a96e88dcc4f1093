// Builds this plugin as the registry does and runs it from an empty ECMAScript realm
// (see ../../bundle-check.ts).
import { testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import { copyingOut, itBundlesForTheSandbox, loadBundle } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('prometheus-query bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'sensor')

  it('runs from the empty realm', async () => {
    const { definition } = await loadBundle(import.meta.url, pkg)
    const { events } = await testSensor(copyingOut(definition) as never, {
      manifest: pkg,
      config: { url: 'http://localhost:9090', query: 'up', operator: '==', threshold: 0 },
      fetch: {
        localhost: {
          body: {
            status: 'success',
            data: { resultType: 'vector', result: [{ metric: { job: 'x' }, value: [1, '0'] }] },
          },
        },
      },
    })
    expect(events.map((event) => event.type)).toEqual(['prometheus.threshold'])
  })
})
