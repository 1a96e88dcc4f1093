// Builds this plugin as the registry does and runs its watch in the agent's real sandbox (see
// ../../bundle-check.ts) on real files: created, written, saved atomically (a temporary file
// renamed over the target), deleted, and a watched file replaced by a rename.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PluginEvent } from '@stavily/agent'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callIds, inSandbox, itBundlesForTheSandbox } from '../../bundle-check.ts'
import pkg from '../package.json' with { type: 'json' }

let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stavily-file-watch-'))
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const grants = () => ({ fs: { read: [dir], write: [] } })
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(check: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await pause(50)
  }
}

/** Runs the watch with `config` while `act` changes files; returns "<change> <relativePath>" lines. */
async function watching(config: Record<string, unknown>, act: (seen: () => string[]) => Promise<void>) {
  return inSandbox(import.meta.url, pkg, grants(), async (sandbox, name) => {
    const seen: PluginEvent[] = []
    const stop = new AbortController()
    const running = sandbox.invoke(name, {
      ...callIds(),
      operation: 'watch',
      config: { debounceMs: 300, ...config },
      deadline: Date.now() + 60_000,
      signal: stop.signal,
      onEvent: (e) => seen.push(e),
    })
    const lines = () =>
      seen.map(
        (e) =>
          `${(e.data as { change: string }).change} ${(e.data as { relativePath: string }).relativePath}`,
      )
    try {
      await pause(800) // the watch is set up (the first listing, then the kernel watch)
      await act(lines)
    } finally {
      stop.abort()
      await running
    }
    return lines()
  })
}

describe('file-watch bundle', () => {
  itBundlesForTheSandbox(import.meta.url, pkg, 'sensor')

  it('reports real changes under a folder once each, an atomic save as one modified', async () => {
    const conf = join(dir, 'conf')
    mkdirSync(join(conf, 'sub'), { recursive: true })
    writeFileSync(join(conf, 'app.yaml'), 'a: 1\n')
    writeFileSync(join(conf, 'old.yaml'), 'x\n')
    const lines = await watching({ paths: [conf], include: ['**/*.yaml'] }, async (seen) => {
      writeFileSync(join(conf, 'sub', 'new.yaml'), 'b: 2\n')
      writeFileSync(join(conf, 'sub', 'new.yaml'), 'b: 3\n') // a second write within the window
      writeFileSync(join(conf, 'ignored.txt'), 'not yaml\n')
      await waitFor(() => seen().includes('created sub/new.yaml'))
      // An editor's save: a temporary file, renamed over the target.
      writeFileSync(join(conf, '.app.yaml.tmp'), 'a: 2\n')
      renameSync(join(conf, '.app.yaml.tmp'), join(conf, 'app.yaml'))
      await waitFor(() => seen().includes('modified app.yaml'))
      rmSync(join(conf, 'old.yaml'))
      await waitFor(() => seen().includes('deleted old.yaml'))
      await pause(500)
    })
    expect(lines).toEqual(['created sub/new.yaml', 'modified app.yaml', 'deleted old.yaml'])
  })

  it('keeps watching a single file after it is replaced by a rename', async () => {
    const file = join(dir, 'settings.json')
    writeFileSync(file, '{"v":1}\n')
    const lines = await watching({ paths: [file] }, async (seen) => {
      writeFileSync(`${file}.new`, '{"v":2}\n')
      renameSync(`${file}.new`, file)
      await waitFor(() => seen().length === 1)
      await pause(1500) // watched again, on the new file
      writeFileSync(file, '{"v":3}\n')
      await waitFor(() => seen().length === 2)
    })
    expect(lines).toEqual(['modified settings.json', 'modified settings.json'])
  })
})
