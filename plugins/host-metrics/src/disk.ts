// Disk space through `df -P` (POSIX output, 1024-byte blocks): one line per path asked for, in
// the order asked. A sensor has no statfs(2), and /proc holds no free-space figures.
import { PluginError } from '@stavily/sdk'
import { round } from './proc.ts'

export type Disk = {
  /** The path the config lists. */
  path: string
  /** The mount point df reports for it (the file system that holds the path). */
  mount: string
  /** Used share of the space programs can use: used / (used + available), as df's Capacity. */
  percent: number
  usedBytes: number
  availableBytes: number
}

/** The arguments of the one `df` call that reads every path. */
export function dfArgs(paths: string[]): string[] {
  return ['-P', '-k', '--', ...paths]
}

// Filesystem, 1024-blocks, Used, Available, Capacity, Mounted on; a file system's name or a
// mount point may hold spaces, the numbers never do.
const LINE = /^(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+|-)%\s+(\/.*)$/

/** Parses `df -P -k -- paths…` output, one row per path, in order. */
export function parseDf(stdout: string, paths: string[]): Disk[] {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '')
  if (lines.length === 0 || !/^Filesystem\s/.test(lines[0]!)) {
    throw unreadable(`expected a header line starting "Filesystem", got ${JSON.stringify(lines[0] ?? '')}`)
  }
  const rows = lines.slice(1)
  if (rows.length !== paths.length) {
    throw unreadable(`expected ${paths.length} line(s) after the header, one per path, got ${rows.length}`)
  }
  return rows.map((line, i) => {
    const m = LINE.exec(line)
    if (m === null)
      throw unreadable(
        `line ${i + 2} is not "Filesystem blocks used available capacity% mount": ${JSON.stringify(line)}`,
      )
    const used = Number(m[3]) * 1024
    const available = Number(m[4]) * 1024
    const total = used + available
    return {
      path: paths[i]!,
      mount: m[6]!,
      percent: total === 0 ? 0 : round((used / total) * 100),
      usedBytes: used,
      availableBytes: available,
    }
  })
}

function unreadable(why: string): PluginError {
  return new PluginError('HOST_METRICS_UNREADABLE', `df -P: not the output expected (${why})`, {
    data: { command: 'df' },
  })
}
