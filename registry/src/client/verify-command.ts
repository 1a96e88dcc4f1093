import { createHash } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { isRegistryError } from '../errors.ts'
import { RegistryClient, type SignedTarget } from './registry-client.ts'

// `stavily plugin verify <file|name@version>`: the CLI lives in core and calls this with
// its argv tail and its output streams; the return value is the exit code.

export interface CommandIo {
  stdout(text: string): void
  stderr(text: string): void
  /** Environment for defaults (STAVILY_REGISTRY_URL, STAVILY_TRUSTED_ROOT, STAVILY_TUF_CACHE). */
  env?: Readonly<Record<string, string | undefined>>
}

export const VERIFY_USAGE = `usage: stavily plugin verify <file|name@version> [options]

Verifies a plugin bundle against the registry's signed TUF metadata: a file is identified
by its sha256 among the signed targets; name@version is downloaded and checked.

options:
  --registry <url>   registry base URL (env STAVILY_REGISTRY_URL)
  --root <file>      trusted root.json, needed the first time (env STAVILY_TRUSTED_ROOT)
  --cache <dir>      trusted metadata folder (env STAVILY_TUF_CACHE; default ~/.cache/stavily/tuf/<host>)
  --json             print the result as JSON
  -h, --help         show this help

exit codes: 0 verified, 1 refused or not found, 2 usage error`

interface Parsed {
  subject: string
  registry?: string
  root?: string
  cache?: string
  json: boolean
}

function parse(args: readonly string[]): Parsed | string {
  const out: Parsed = { subject: '', json: false }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const value = () => {
      const v = args[++i]
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`)
      return v
    }
    try {
      if (a === '--registry') out.registry = value()
      else if (a === '--root') out.root = value()
      else if (a === '--cache') out.cache = value()
      else if (a === '--json') out.json = true
      else if (a.startsWith('-')) return `unknown option ${a}`
      else if (out.subject === '') out.subject = a
      else return `unexpected argument ${a}`
    } catch (err) {
      return (err as Error).message
    }
  }
  return out.subject === '' ? 'missing <file|name@version>' : out
}

function splitNameVersion(s: string): { name: string; version: string } | undefined {
  const at = s.lastIndexOf('@')
  if (at <= 0) return undefined
  return { name: s.slice(0, at), version: s.slice(at + 1) }
}

export async function runPluginVerify(args: readonly string[], io: CommandIo): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(`${VERIFY_USAGE}\n`)
    return 0
  }
  const parsed = parse(args)
  const env = io.env ?? {}
  const usage = (problem: string) => {
    io.stderr(`stavily plugin verify: ${problem}\n\n${VERIFY_USAGE}\n`)
    return 2
  }
  if (typeof parsed === 'string') return usage(parsed)
  const registry = parsed.registry ?? env.STAVILY_REGISTRY_URL
  if (!registry) return usage('no registry: pass --registry <url> or set STAVILY_REGISTRY_URL')
  let url: URL | undefined
  try {
    url = new URL(registry)
  } catch {
    // Told below, with the other schemes.
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:')
    return usage(`--registry: expected an http(s) URL, got "${registry}"`)
  const host = url.host
  const cacheDir =
    parsed.cache ??
    env.STAVILY_TUF_CACHE ??
    join(homedir(), '.cache', 'stavily', 'tuf', host.replace(/[^a-zA-Z0-9.-]/g, '_'))
  const rootFile = parsed.root ?? env.STAVILY_TRUSTED_ROOT
  let trustedRoot: string | undefined
  if (rootFile !== undefined) {
    try {
      trustedRoot = await readFile(rootFile, 'utf8')
    } catch {
      return usage(`--root: cannot read ${rootFile}`)
    }
  } else if (!existsSync(join(cacheDir, 'root.json'))) {
    return usage(
      `no trusted root yet in ${cacheDir}: pass --root <root.json> (ask the operator for the registry's root)`,
    )
  }

  const client = new RegistryClient({ baseUrl: registry, cacheDir, ...(trustedRoot ? { trustedRoot } : {}) })
  try {
    let target: SignedTarget
    const isFile = existsSync(parsed.subject) && statSync(parsed.subject).isFile()
    if (isFile) {
      const bytes = await readFile(parsed.subject)
      const sha256 = createHash('sha256').update(bytes).digest('hex')
      const matches = (await client.targets()).filter((t) => t.sha256 === sha256)
      if (matches.length === 0) {
        io.stderr(`refused: ${parsed.subject} (sha256 ${sha256}) is not a signed artifact of ${registry}\n`)
        return 1
      }
      target = client.verifyBytes(matches[0]!, bytes)
    } else {
      const nv = splitNameVersion(parsed.subject)
      if (!nv) return usage(`"${parsed.subject}" is neither a file nor name@version`)
      target = (await client.download(nv.name, nv.version)).target
    }
    io.stdout(parsed.json ? `${JSON.stringify({ ok: true, target }, null, 2)}\n` : describe(target))
    return 0
  } catch (err) {
    if (parsed.json && isRegistryError(err))
      io.stdout(`${JSON.stringify({ ok: false, error: err.toJSON() }, null, 2)}\n`)
    io.stderr(`refused: ${(err as Error).message}\n`)
    return 1
  }
}

// "$granted" spelled out: the operator, not the author, chooses those targets. (The SDK's
// describePermissionEntry says the same; the client entry imports no SDK code.)
const GRANTED = /^(?:(https?):\/\/)?\$granted(?::(\d+))?$/
const TARGETS: Record<string, string> = {
  net: 'hosts',
  exec: 'commands',
  'fs.read': 'paths',
  'fs.write': 'paths',
  sql: 'PostgreSQL connections',
  smtp: 'SMTP relays',
}
function spell(permission: string, entries: readonly string[] | undefined): string {
  if (!entries || entries.length === 0) return '-'
  return entries
    .map((e) => {
      const m = GRANTED.exec(e)
      if (!m) return e
      const only = [m[1] ? `${m[1]} only` : '', m[2] ? `port ${m[2]} only` : ''].filter(Boolean)
      return `${TARGETS[permission]} the operator grants${only.length ? ` (${only.join(', ')})` : ''}`
    })
    .join(', ')
}

function optionalRows(p: SignedTarget['permissions']): [string, string][] {
  const rows: [string, string][] = []
  if (p.env?.length) rows.push(['env', p.env.join(', ')])
  if (p.sql?.length) rows.push(['sql', spell('sql', p.sql)])
  if (p.smtp?.length) rows.push(['smtp', spell('smtp', p.smtp)])
  return rows
}

function describe(t: SignedTarget): string {
  const list = (xs: readonly string[]) => (xs.length > 0 ? xs.join(', ') : '-')
  const p = t.permissions
  const rows: [string, string][] = [
    ['kind', t.kind],
    ['digest', t.digest],
    ['size', `${t.length} bytes`],
    ['sdk', t.sdk],
    ['repository', t.repository],
    ['ref', t.ref],
    ['commit', t.commit],
    ['built', `${t.builtAt} by ${t.builder}`],
    ['net', spell('net', p.net)],
    ['exec', spell('exec', p.exec)],
    ['secrets', list(p.secrets)],
    ['fs read', spell('fs.read', p.fs.read)],
    ['fs write', spell('fs.write', p.fs.write)],
    ...optionalRows(p),
    ['yanked', t.yanked ? 'yes (still valid, hidden from ranges)' : 'no'],
  ]
  return `verified ${t.name}@${t.version}\n${rows.map(([k, v]) => `  ${k.padEnd(11)}${v}`).join('\n')}\n`
}
