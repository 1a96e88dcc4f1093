import { describe, expect, it } from 'vitest'
import { builtinsMessage, isNodeBuiltin } from './index.ts'

describe('isNodeBuiltin', () => {
  it('recognises built-ins with and without the node: prefix, and their subpaths', () => {
    for (const name of [
      'fs',
      'node:fs',
      'fs/promises',
      'node:fs/promises',
      'events',
      'node:test',
      'child_process',
      'path/posix',
    ]) {
      expect(isNodeBuiltin(name), name).toBe(true)
    }
    for (const name of ['typebox', '@stavily/sdk', './fs', 'fs-extra', 'pathe', 'eventsource']) {
      expect(isNodeBuiltin(name), name).toBe(false)
    }
  })
})

describe('builtinsMessage', () => {
  it('lists every import with its importer and says what to do instead', () => {
    expect(
      builtinsMessage([
        { specifier: 'node:fs', importer: 'src/index.ts' },
        { specifier: 'crypto', importer: 'node_modules/some-lib/index.js' },
      ]),
    ).toBe(
      'plugin imports Node built-ins, which do not exist in the Stavily sandbox:\n' +
        '    node:fs (imported by src/index.ts)\n' +
        '    crypto (imported by node_modules/some-lib/index.js)\n' +
        'Use the capabilities on ctx instead (ctx.fetch, ctx.fs, ctx.exec, ctx.secrets, ctx.state), ' +
        'and dependencies that do not need Node.',
    )
  })
})
