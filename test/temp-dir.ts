import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

// Temp folders that a helper hands out and tests keep using until their file ends (config
// folders, workflow files, key folders): removed after the test file, as the leak check
// (test/leak-check.ts) requires. A helper module is loaded once per test file, so its
// afterAll is that file's.

const made: string[] = []
const removeMade = () => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}
try {
  afterAll(removeMade)
} catch {
  // Outside a vitest run (a benchmark uses the registry's test helpers): on exit instead.
  process.once('exit', removeMade)
}

/** A fresh folder `<tmp>/stavily-<name>-XXXXXX`, removed after the current test file. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `stavily-${name}-`))
  made.push(dir)
  return dir
}
