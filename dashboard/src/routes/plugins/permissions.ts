// A version's declared permissions in words, one line per capability, so an operator reads
// what enabling it would let it do (it gets declared ∩ what each agent grants).

export interface Permissions {
  net: string[]
  exec: string[]
  secrets: string[]
  fs: { read: string[]; write: string[] }
  env?: string[]
}

export interface PermissionLine {
  /** What the capability lets the plugin do. */
  label: string
  items: string[]
}

export function spellPermissions(p: Permissions): PermissionLine[] {
  const lines: PermissionLine[] = [
    { label: 'Connect over the network to', items: p.net },
    { label: 'Run the commands', items: p.exec },
    { label: 'Read the secrets', items: p.secrets },
    { label: 'Read files under', items: p.fs.read },
    { label: 'Write files under', items: p.fs.write },
    { label: 'Pass to commands the environment variables', items: p.env ?? [] },
  ]
  return lines.filter((l) => l.items.length > 0)
}
