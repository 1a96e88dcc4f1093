import { copyFile, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * npm drops `.gitignore` from published packages (and would honour it while packing), so
 * templates ship the file as `_gitignore` and it gets its real name on the way out.
 */
const RENAMES: Record<string, string> = { _gitignore: '.gitignore' }

/** Left behind if someone ran a template in place inside this repository; never part of a new project. */
const SKIPPED = new Set(['node_modules', 'dist', 'package-lock.json'])

/** Copies a template folder into `targetDir` and returns the written paths, relative and sorted. */
export async function copyTemplate(templateDir: string, targetDir: string): Promise<string[]> {
  const written: string[] = []
  async function copyDir(from: string, to: string, prefix: string): Promise<void> {
    await mkdir(to, { recursive: true })
    for (const entry of await readdir(from, { withFileTypes: true })) {
      if (SKIPPED.has(entry.name)) continue
      const name = RENAMES[entry.name] ?? entry.name
      if (entry.isDirectory()) {
        await copyDir(join(from, entry.name), join(to, name), `${prefix}${name}/`)
      } else if (entry.isFile()) {
        await copyFile(join(from, entry.name), join(to, name))
        written.push(`${prefix}${name}`)
      }
    }
  }
  await copyDir(templateDir, targetDir, '')
  return written.sort()
}
