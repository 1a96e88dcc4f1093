// Builds this plugin as the registry does and runs it from an empty ECMAScript realm
// (see ../../bundle-check.ts).
import { testOutput } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import { copyingOut, itBundlesForTheSandbox, loadBundle } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('log bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'output')

  it('runs from the empty realm', async () => {
    const { definition } = await loadBundle(import.meta.url, pkg)
    const { output, files } = await testOutput(copyingOut(definition) as never, {
      manifest: pkg,
      config: { file: '/tmp/stavily/log.jsonl' },
      input: { message: 'é€😀' },
    })
    expect(output).toMatchObject({ droppedLines: 0 })
    expect(files['/tmp/stavily/log.jsonl']).toContain('é€😀')
  })
})
