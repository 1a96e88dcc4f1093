// Builds this plugin as the registry does and runs it from an empty ECMAScript realm
// (see ../../bundle-check.ts).
import { testOutput } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import { copyingOut, itBundlesForTheSandbox, loadBundle } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('webhook bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'output')

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
