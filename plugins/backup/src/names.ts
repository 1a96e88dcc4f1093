// Backup file names: `<name>-<UTC stamp>.<ext>`, fixed-width stamps so that the order of the
// names is the order in time. The plugin removes and restores only files named this way.

export type Format = 'postgres' | 'folder'

export const EXTENSIONS: Record<Format, string> = { postgres: '.dump', folder: '.tar.gz' }

/** `2026-12-07T11:58:03.123Z` → `20261207T115803123Z`. */
export function stamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '')
}

/** The backup file name for `name` at `date`. */
export function backupFileName(name: string, format: Format, date: Date): string {
  return `${name}-${stamp(date)}${EXTENSIONS[format]}`
}

/** Whether `file` is a backup of `name` in `format` (and nothing else: no folder, no sidecar). */
export function isBackupOf(file: string, name: string, format: Format): boolean {
  const ext = EXTENSIONS[format]
  if (!file.startsWith(`${name}-`) || !file.endsWith(ext)) return false
  const middle = file.slice(name.length + 1, file.length - ext.length)
  return /^[0-9]{8}T[0-9]{9}Z$/.test(middle)
}

/** The backups of `name` among `files`, oldest first. */
export function backupsOf(files: string[], name: string, format: Format): string[] {
  return files.filter((f) => isBackupOf(f, name, format)).sort()
}
