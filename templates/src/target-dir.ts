import { readdir, stat } from 'node:fs/promises'
import { relative } from 'node:path'
import { CreateError } from './errors.js'

/** A folder holding only these is still "empty": `git init` first, then scaffold, is a common order. */
const IGNORED_ENTRIES = new Set(['.git'])

/**
 * Refuses a target that exists and holds anything, or that is a file. It checks before any
 * prompt or write, so a refused run has asked nothing and written nothing.
 */
export async function assertTargetUsable(targetDir: string, cwd: string): Promise<void> {
  const shown = relative(cwd, targetDir) || '.'
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(targetDir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  if (!info.isDirectory()) {
    throw new CreateError(
      'STAVILY_ERR_CREATE_TARGET_NOT_EMPTY',
      `${shown} exists and is not a folder; choose another name or remove that file`,
    )
  }
  const entries = (await readdir(targetDir)).filter((entry) => !IGNORED_ENTRIES.has(entry))
  if (entries.length > 0) {
    const listed = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '')
    throw new CreateError(
      'STAVILY_ERR_CREATE_TARGET_NOT_EMPTY',
      `${shown} is not empty (it holds ${listed}); choose another name or empty that folder first. Nothing was written.`,
    )
  }
}
