// Builds this plugin as the registry does and runs it from an empty ECMAScript realm
// (see ../../bundle-check.ts).
import { testAction } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import { copyingOut, loadBundle, patterns } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('run-command bundle', () => {
  it('bundles without Node built-ins and defines a action in an empty realm', async () => {
    const { text, definition, kind } = await loadBundle(import.meta.url, pkg)
    expect(kind).toBe('action')
    expect(definition.kind).toBe('action')
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
    const { output } = await testAction(copyingOut(definition) as never, {
      manifest: pkg,
      config: { command: 'echo' },
      input: { args: ['hi'] },
      exec: { echo: { stdout: 'hi\n' } },
    })
    expect(output).toMatchObject({ code: 0, stdout: 'hi\n' })
  })
})
