// A plugin version's declared permissions as the CLI prints them: one line per capability,
// "$granted" entries spelled out, since they mean the agent's grant decides the targets.
import { describePermissionEntry, type Permissions } from '@stavily/sdk/manifest'

const ROWS: [label: string, key: string, pick: (p: Permissions) => string[] | undefined][] = [
  ['net', 'net', (p) => p.net],
  ['exec', 'exec', (p) => p.exec],
  ['secrets', 'secrets', (p) => p.secrets],
  ['fs read', 'fs.read', (p) => p.fs?.read],
  ['fs write', 'fs.write', (p) => p.fs?.write],
  ['env', 'env', (p) => p.env],
  ['sql', 'sql', (p) => p.sql],
  ['smtp', 'smtp', (p) => p.smtp],
]

/** `[label, text]` for every capability the version declares; nothing declared, no rows. */
export function permissionLines(permissions: Permissions): [string, string][] {
  const out: [string, string][] = []
  for (const [label, key, pick] of ROWS) {
    const entries = pick(permissions) ?? []
    if (entries.length > 0) out.push([label, entries.map((e) => describePermissionEntry(key, e)).join(', ')])
  }
  return out
}
