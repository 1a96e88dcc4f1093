// Builds this plugin as the registry does and runs it in the agent's real sandbox (see
// ../../bundle-check.ts) on real files: appended to, rotated by rename and by copytruncate,
// and read again by a new sandbox host (an agent restart) that keeps the plugin's state on disk.
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createFileStateStore, createSandbox, type Sandbox } from '@stavily/agent'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callIds, itBundlesForTheSandbox, loadBundle } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

// The manifest leaves the paths to the operator ("$granted"); the sandbox grants this folder.
let dir: string
let stateDir: string
let bundle: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stavily-log-file-'))
  stateDir = join(dir, 'agent-state')
  bundle = (await loadBundle(import.meta.url, pkg)).text
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** A sandbox host as an agent starts it: its plugin state in a folder on disk. */
async function agentSandbox(): Promise<{ sandbox: Sandbox; name: string }> {
  const sandbox = await createSandbox({ stateStore: createFileStateStore(stateDir) })
  const loaded = await sandbox.load({ manifest: pkg, bundle, grants: { fs: { read: [dir], write: [] } } })
  return { sandbox, name: loaded.name }
}

describe('log-file bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'sensor')

  it('tails a real file through rotations and an agent restart, each matching line once', async () => {
    const log = join(dir, 'app.log')
    const config = { path: log, pattern: 'ERROR (?<code>E\\d+)' }
    const matched = async (sandbox: Sandbox, name: string) =>
      (await sandbox.invoke(name, { ...callIds(), config })).events.map(
        (e) =>
          `${(e.data as { path: string }).path === log ? '' : 'rotated: '}${(e.data as { line: string }).line}`,
      )

    writeFileSync(log, 'ERROR E0 before the tail began\n')
    let { sandbox, name } = await agentSandbox()
    try {
      expect(await matched(sandbox, name)).toEqual([]) // starts at the end
      appendFileSync(log, 'info\nERROR E1 disk full\n')
      expect(await matched(sandbox, name)).toEqual(['ERROR E1 disk full'])

      // Rotation by rename, as logrotate's default does, with a line written just before it.
      appendFileSync(log, 'ERROR E2 just before rotation\n')
      renameSync(log, `${log}.1`)
      writeFileSync(log, 'ERROR E3 in the new file\n')
      expect(await matched(sandbox, name)).toEqual([
        'rotated: ERROR E2 just before rotation',
        'ERROR E3 in the new file',
      ])
      appendFileSync(log, 'ERROR E4 while the agent is down\n')
    } finally {
      await sandbox.close()
    }
    // The agent restarts: a new sandbox host, the same state folder.
    ;({ sandbox, name } = await agentSandbox())
    try {
      expect(await matched(sandbox, name)).toEqual(['ERROR E4 while the agent is down'])
      expect(await matched(sandbox, name)).toEqual([])

      // copytruncate: the file is copied to .1 and cut to zero in place, then written again.
      rmSync(`${log}.1`)
      truncateSync(log, 0)
      appendFileSync(log, 'ERROR E5 after truncation\n')
      const result = await sandbox.invoke(name, { ...callIds(), config })
      expect(result.events.map((e) => (e.data as { line: string }).line)).toEqual([
        'ERROR E5 after truncation',
      ])
      expect(result.events[0]?.data).toMatchObject({ groups: { code: 'E5' }, lineNumber: 1 })
    } finally {
      await sandbox.close()
    }
  })

  it('waits for a missing file, and refuses a path the operator did not grant', async () => {
    const { sandbox, name } = await agentSandbox()
    try {
      const later = join(dir, 'later.log')
      const config = { path: later, pattern: 'panic' }
      expect((await sandbox.invoke(name, { ...callIds(), config })).events).toEqual([])
      writeFileSync(later, 'kernel panic\n')
      expect((await sandbox.invoke(name, { ...callIds(), config })).events).toHaveLength(1)
      // Not granted to this sandbox.
      await expect(
        sandbox.invoke(name, { ...callIds(), config: { path: '/var/log/syslog', pattern: 'x' } }),
      ).rejects.toMatchObject({ code: 'STAVILY_ERR_PERMISSION_DENIED' })
    } finally {
      await sandbox.close()
    }
  })
})
