// A plugin's grants: the agent's global grants with the plugin's own added. A connection or
// relay defined for the plugin replaces a global one of the same name, and then the global
// definition's password secret must not stay granted: it was granted only so the sandbox
// could log in with it, and once no connection of this plugin uses it, nothing would block
// plugin code from reading it (the sandbox blocks only the passwords of the connections the
// plugin has).
import type { GrantConfig } from './config.ts'

export function mergeGrants(global: GrantConfig, own: GrantConfig | undefined): GrantConfig {
  if (!own) return global
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])]
  const connections = {
    sql: { ...global.connections?.sql, ...own.connections?.sql },
    smtp: { ...global.connections?.smtp, ...own.connections?.smtp },
  }
  const inUse = new Set(
    [...Object.values(connections.sql), ...Object.values(connections.smtp)].map((c) => c.passwordSecret),
  )
  const replaced = [
    ...Object.entries(global.connections?.sql ?? {}).filter(([name]) => own.connections?.sql?.[name]),
    ...Object.entries(global.connections?.smtp ?? {}).filter(([name]) => own.connections?.smtp?.[name]),
  ]
    .map(([, c]) => c.passwordSecret)
    .filter((s): s is string => s !== undefined && !inUse.has(s))
  const sql = Object.keys(connections.sql)
  const smtp = Object.keys(connections.smtp)
  return {
    net: union(global.net, own.net),
    exec: union(global.exec, own.exec),
    secrets: union(global.secrets, own.secrets).filter((s) => !replaced.includes(s)),
    fs: { read: union(global.fs.read, own.fs.read), write: union(global.fs.write, own.fs.write) },
    env: union(global.env ?? [], own.env ?? []),
    ...(sql.length > 0 ? { sql } : {}),
    ...(smtp.length > 0 ? { smtp } : {}),
    allowPrivateNetwork: global.allowPrivateNetwork || own.allowPrivateNetwork,
    connections,
  }
}
