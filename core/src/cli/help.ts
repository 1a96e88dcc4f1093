import { allOptions, commandName } from './args.ts'
import { EXIT } from './exit-codes.ts'
import type { CommandSpec, GroupSpec, OptionSpec } from './spec.ts'

// Help texts, built from the same specs the parser reads.

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`
    return [flag, o.description + (o.multiple ? ' (repeatable)' : '')] as const
  })
  const w = Math.max(...rows.map(([f]) => f.length))
  return rows.map(([f, d]) => `  ${f.padEnd(w)}  ${d}`)
}

export function usageLine(spec: CommandSpec): string {
  const args = spec.args.map((a) => (a.required ? a.name : `[${a.name}]`)).join(' ')
  return `${commandName(spec)}${args ? ` ${args}` : ''} [options]`
}

export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: ${usageLine(spec)}`, '', spec.summary]
  if (spec.details) lines.push('', spec.details)
  if (spec.args.length > 0) {
    lines.push('', 'arguments:')
    const w = Math.max(...spec.args.map((a) => a.name.length))
    for (const a of spec.args) lines.push(`  ${a.name.padEnd(w)}  ${a.description}`)
  }
  lines.push('', 'options:', ...optionLines(allOptions(spec)))
  if (spec.examples?.length) lines.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`))
  return `${lines.join('\n')}\n`
}

export function groupHelp(group: GroupSpec): string {
  const w = Math.max(...group.commands.map((c) => c.words.join(' ').length))
  return `${[
    `usage: stavily ${group.name} <command> [options]`,
    '',
    group.summary,
    '',
    'commands:',
    ...group.commands.map((c) => `  ${c.words.join(' ').padEnd(w)}  ${c.summary}`),
    '',
    `Run \`stavily ${group.name} <command> --help\` for a command's options.`,
  ].join('\n')}\n`
}

export const EXIT_CODES_TEXT = `exit codes:
  ${EXIT.ok}  ok
  ${EXIT.failed}  the operation failed (a run failed, the audit chain is broken, the server refused the input)
  ${EXIT.usage}  usage error (unknown command or option, missing argument)
  ${EXIT.auth}  not authenticated or not allowed (run \`stavily login\`, or use a token with another role)
  ${EXIT.notFound}  not found
  ${EXIT.unreachable}  the orchestrator cannot be reached`

export function topHelp(groups: GroupSpec[], singles: CommandSpec[], version: string): string {
  const entries: [string, string][] = [
    ...singles.map((c) => [c.words.join(' '), c.summary] as [string, string]),
    ...groups.flatMap((g) => g.commands.map((c) => [c.words.join(' '), c.summary] as [string, string])),
  ]
  const w = Math.max(...entries.map(([n]) => n.length))
  return `${[
    `stavily ${version}: the Stavily orchestrator and its command line`,
    '',
    'usage: stavily <command> [options]',
    '',
    'commands:',
    ...entries.map(([n, s]) => `  ${n.padEnd(w)}  ${s}`),
    `  ${'help [COMMAND]'.padEnd(w)}  show help for a command`,
    '',
    'options every command takes: --json, --url URL, -h/--help',
    'configuration: `stavily login` writes ~/.config/stavily/config.json (or $STAVILY_CONFIG);',
    'STAVILY_URL and STAVILY_TOKEN override it.',
    '',
    EXIT_CODES_TEXT,
  ].join('\n')}\n`
}
