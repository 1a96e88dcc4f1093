// The examples in docs/plugin-authors.md are real code: every block with a `file=` label is
// kept byte for byte in sdk/test/docs-examples/, which `npm run typecheck -w sdk` checks with
// the repository's strict settings and whose tests vitest runs with the rest of the SDK's.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sdkRoot } from './bundle.ts'

const doc = readFileSync(join(sdkRoot, '..', 'docs/plugin-authors.md'), 'utf8')
const blocks = [...doc.matchAll(/```(\w+) file=(\S+)\n([\s\S]*?)```/g)].map((m) => ({
  lang: m[1]!,
  file: m[2]!,
  code: m[3]!,
}))

describe('docs/plugin-authors.md examples', () => {
  it('are all kept in sdk/test/docs-examples', () => {
    expect(blocks.map((b) => b.file).sort()).toEqual([
      'package.json',
      'src/index.test.ts',
      'src/index.ts',
      'src/output.ts',
      'src/sensor.test.ts',
      'src/sensor.ts',
    ])
  })

  for (const block of blocks) {
    it(`${block.file} in the page is the checked copy`, () => {
      const copy = readFileSync(join(sdkRoot, 'test/docs-examples', block.file), 'utf8')
      const hint = `update docs/plugin-authors.md and sdk/test/docs-examples/${block.file} together`
      // The formatter lays out package.json and JSON in Markdown differently: compare values.
      if (block.lang === 'json') expect(JSON.parse(block.code), hint).toEqual(JSON.parse(copy))
      else expect(block.code, hint).toBe(copy)
    })
  }
})
