import { parseArgs } from 'node:util'
import { usageError } from './cli-error.ts'
import { type CommandSpec, GLOBAL_OPTIONS, type OptionSpec } from './spec.ts'
import { didYouMean } from './suggest.ts'

// Parses one command's arguments against its spec. Unknown options are refused by name
// with the closest known one; node:util's parseArgs does the rest (values, `--x=y`, `--`).

export interface Parsed {
  args: string[]
  opts: Record<string, string | boolean | string[] | undefined>
}

export function commandName(spec: CommandSpec): string {
  return `stavily ${spec.words.join(' ')}`
}

export function allOptions(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, ...GLOBAL_OPTIONS }
}

export function parseCommand(spec: CommandSpec, argv: readonly string[]): Parsed {
  const options = allOptions(spec)
  const longs = Object.keys(options)
  const shorts = new Map(
    Object.entries(options)
      .filter(([, o]) => o.short)
      .map(([k, o]) => [o.short!, k]),
  )
  const help = `run \`${commandName(spec)} --help\` for its options`
  for (const token of argv) {
    if (token === '--') break
    if (token.startsWith('--')) {
      const name = token.slice(2).split('=')[0]!
      if (!(name in options))
        throw usageError(
          `unknown option --${name} for \`${commandName(spec)}\`${didYouMean(name, longs).replace(/"(.+)"/, '"--$1"')}`,
          help,
        )
    } else if (/^-[A-Za-z]/.test(token)) {
      for (const ch of token.slice(1)) {
        if (!shorts.has(ch)) throw usageError(`unknown option -${ch} for \`${commandName(spec)}\``, help)
      }
    }
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        Object.entries(options).map(([k, o]) => [
          k,
          { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
        ]),
      ),
      strict: true,
      allowPositionals: true,
    })
  } catch (err) {
    // e.g. "Option '--pool <value>' argument missing"
    throw usageError(`${commandName(spec)}: ${(err as Error).message}`, help)
  }
  const values = parsed.values as Parsed['opts']
  if (values.help) return { args: parsed.positionals, opts: values }
  const args = parsed.positionals
  const required = spec.args.filter((a) => a.required)
  if (args.length < required.length) {
    const missing = required.slice(args.length).map((a) => a.name)
    throw usageError(`${commandName(spec)}: missing ${missing.join(' ')}`, help)
  }
  if (args.length > spec.args.length)
    throw usageError(`${commandName(spec)}: unexpected argument "${args[spec.args.length]}"`, help)
  return { args, opts: values }
}

/** An integer option within bounds, or a usage error naming the option. */
export function intOption(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined
  const n = typeof value === 'string' && /^[0-9]+$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= min && n <= max))
    throw usageError(`--${name}: expected an integer from ${min} to ${max}, got "${value}"`)
  return n
}

/** `--since`: an ISO date/time, or an age such as 30m, 12h, 7d (that long ago). */
export function sinceOption(value: unknown, now = Date.now()): string | undefined {
  if (value === undefined) return undefined
  const s = String(value)
  const age = /^([0-9]+)(m|h|d)$/.exec(s)
  if (age) {
    const ms = Number(age[1]) * ({ m: 60_000, h: 3_600_000, d: 86_400_000 } as const)[age[2] as 'm']
    return new Date(now - ms).toISOString()
  }
  if (/^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s))) return s
  throw usageError(
    `--since: expected an age such as 30m, 12h, 7d or a date such as 2026-11-28T10:00:00Z, got "${s}"`,
  )
}
