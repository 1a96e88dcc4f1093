// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts).
import { describe, expect, it } from 'vitest'
import { callIds, itBundlesForTheSandbox, loadInSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('run-command bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'action')

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
