// Builds this plugin as the registry does and runs it in the agent's real sandbox, appending
// to a real file (see ../../bundle-check.ts).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

describe('log bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'output')

  it('appends a line to a granted file from the agent sandbox', async () => {
    // Under /tmp/stavily, a folder the manifest declares (a temp folder elsewhere would be
    // refused as undeclared); a folder of this test's own, removed after.
    const root = '/tmp/stavily'
    const rootWasThere = existsSync(root)
    const folder = join(root, `bundle-test-${process.pid}-${Date.now()}`)
    mkdirSync(folder, { recursive: true })
    try {
      const file = join(folder, 'log.jsonl')
      const result = await inSandbox(
        import.meta.url,
        pkg,
        { fs: { read: [folder], write: [folder] } },
        async (sandbox, name) => {
          const send = (message: string) =>
            sandbox.invoke(name, { ...callIds(), config: { file }, input: { message } })
          await send('first')
          return send('é€😀')
        },
      )
      expect(result.output).toMatchObject({ file, droppedLines: 0 })
      const lines = readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line))
      expect(lines.map((line) => line.message)).toEqual(['first', 'é€😀'])
    } finally {
      rmSync(rootWasThere ? folder : root, { recursive: true, force: true })
    }
  })
})
