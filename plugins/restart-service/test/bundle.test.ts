// Builds this plugin as the registry does and runs it from an empty ECMAScript realm
// (see ../../bundle-check.ts).
import { testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import { copyingOut, itBundlesForTheSandbox, loadBundle } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('restart-service bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'action')

  it('runs from the empty realm', async () => {
    const { definition } = await loadBundle(import.meta.url, pkg)
    const { output } = await testAction(copyingOut(definition) as never, {
      manifest: pkg,
      input: { unit: 'nginx.service' },
      exec: { systemctl: (call) => ({ stdout: call.args[0] === 'is-active' ? 'active\n' : '' }) },
    })
    expect(output).toMatchObject({ restarted: true, active: true })
  })
})
