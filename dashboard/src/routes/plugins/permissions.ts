// A version's declared permissions in words, one line per capability, so an operator reads
// what enabling it would let it do (it gets declared ∩ what each agent grants).

export interface Permissions {
  net: string[]
  exec: string[]
  secrets: string[]
  fs: { read: string[]; write: string[] }
  env?: string[]
  sql?: string[]
  smtp?: string[]
}

export interface PermissionLine {
  /** What the capability lets the plugin do. */
  label: string
  items: string[]
}

// "$granted" leaves the targets to the operator: the plugin gets exactly what an agent grants.
const GRANTED = /^(?:(https?):\/\/)?\$granted(?::(\d+))?$/

function spell(what: string, items: string[]): string[] {
  return items.map((item) => {
    const m = GRANTED.exec(item)
    if (!m) return item
    const only = [m[1] ? `${m[1]} only` : '', m[2] ? `port ${m[2]} only` : ''].filter(Boolean)
    return `any ${what} the agent's operator grants${only.length ? ` (${only.join(', ')})` : ''}`
  })
}

export function spellPermissions(p: Permissions): PermissionLine[] {
  const lines: PermissionLine[] = [
    { label: 'Connect over the network to', items: spell('host', p.net) },
    { label: 'Run the commands', items: spell('command', p.exec) },
    { label: 'Read the secrets', items: p.secrets },
    { label: 'Read files under', items: spell('path', p.fs.read) },
    { label: 'Write files under', items: spell('path', p.fs.write) },
    { label: 'Pass to commands the environment variables', items: p.env ?? [] },
    { label: 'Query the PostgreSQL connections', items: spell('connection', p.sql ?? []) },
    { label: 'Send mail through the SMTP relays', items: spell('relay', p.smtp ?? []) },
  ]
  return lines.filter((l) => l.items.length > 0)
}
