// The agent's grants for capabilities whose targets the operator chooses: "$granted" belongs
// to manifests and is refused in a grant at start, naming where it came from.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../../../test/temp-dir.ts'
import { loadConfig } from '../../src/agent/config.ts'

const dir = tempDir('agent-config-grants')
function file(name: string, text: string): string {
  const f = join(dir, name)
  writeFileSync(f, text)
  return f
}
const o = ['--orchestrator', 'http://o']

describe('agent grants', () => {
  it('refuses "$granted" in a grant, by flag, variable or file', () => {
    expect(() => loadConfig([...o, '--allow-host', '$granted'], {})).toThrow(
      /--allow-host\[0\]: "\$granted" is for plugin manifests/,
    )
    expect(() => loadConfig(o, { STAVILY_ALLOW_COMMANDS: 'echo,$granted' })).toThrow(
      /STAVILY_ALLOW_COMMANDS\[1\]: "\$granted" is for plugin manifests/,
    )
    const f = file(
      'g.yaml',
      'orchestratorUrl: http://o\nplugins:\n  p:\n    grants: { fs: { read: ["$granted"] } }\n',
    )
    expect(() => loadConfig(['--config', f], {})).toThrow(
      `${f}: plugins.p.grants.fs.read[0]: "$granted" is for plugin manifests`,
    )
  })
})
