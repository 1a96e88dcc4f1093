// Builds this plugin as the registry does and runs it from an empty ECMAScript realm
// (see ../../bundle-check.ts).
import { testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import { callIds, copyingOut, itBundlesForTheSandbox, loadBundle, loadInSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('run-command bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'action')

  it('runs from the empty realm', async () => {
    const { definition } = await loadBundle(import.meta.url, pkg)
    const { output } = await testAction(copyingOut(definition) as never, {
      manifest: pkg,
      config: { command: 'echo' },
      input: { args: ['hi'] },
      exec: { echo: { stdout: 'hi\n' } },
    })
    expect(output).toMatchObject({ code: 0, stdout: 'hi\n' })
  })

  it('runs a real command from the agent sandbox, within what the operator granted', async () => {
    const { sandbox, name } = await loadInSandbox(import.meta.url, pkg, { exec: ['echo'] })
    try {
      const r = await sandbox.invoke(name, {
        ...callIds(),
        config: { command: 'echo' },
        input: { args: ['hi'] },
      })
      expect(r.output).toMatchObject({ code: 0, stdout: 'hi\n' })
      // Declared by the plugin but not granted here.
      await expect(
        sandbox.invoke(name, { ...callIds(), config: { command: 'true' }, input: {} }),
      ).rejects.toMatchObject({ code: 'STAVILY_ERR_PERMISSION_DENIED' })
    } finally {
      await sandbox.close()
    }
  })
})
