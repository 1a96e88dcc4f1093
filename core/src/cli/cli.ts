import { readFileSync } from 'node:fs'
import { ApiClient } from './api-client.ts'
import { parseCommand } from './args.ts'
import { CliError, isCliError, usageError } from './cli-error.ts'
import { GROUPS, SINGLES } from './commands/index.ts'
import { resolveTarget } from './config-file.ts'
import { EXIT } from './exit-codes.ts'
import { commandHelp, groupHelp, topHelp } from './help.ts'
import type { CliIo } from './io.ts'
import { Output } from './output.ts'
import type { CommandContext, CommandSpec } from './spec.ts'
import { didYouMean } from './suggest.ts'

// `stavily …`: finds the command named by the first words, parses the rest against its
// spec, runs it, and turns every failure into a message, a next step and an exit code.

export function version(): string {
  // src/cli/cli.ts and dist/<chunk>.js sit at different depths below core/package.json.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === '@stavily/core' && pkg.version) return pkg.version
    } catch {}
  }
  return 'unknown'
}

const firstWords = () => [...SINGLES.map((c) => c.words[0]!), ...GROUPS.map((g) => g.name), 'help', 'version']

/** Finds the command; answers a help text instead when the words name a group or nothing runnable. */
function find(
  words: readonly string[],
): { spec: CommandSpec; rest: string[] } | { help: string; exit: number } {
  const [first, second] = words
  const single = SINGLES.find((c) => c.words[0] === first)
  if (single) return { spec: single, rest: words.slice(1) }
  const group = GROUPS.find((g) => g.name === first)
  if (!group)
    throw usageError(
      `unknown command "${first}"${didYouMean(first!, firstWords())}`,
      'run `stavily help` for the list of commands',
    )
  if (second === undefined || second === '--help' || second === '-h' || second === 'help')
    return { help: groupHelp(group), exit: second === undefined ? EXIT.usage : EXIT.ok }
  const spec = group.commands.find((c) => c.words[1] === second)
  if (!spec)
    throw usageError(
      `unknown command "stavily ${group.name} ${second}"${didYouMean(
        second,
        group.commands.map((c) => c.words[1]!),
      )}`,
      `run \`stavily ${group.name} --help\` for its commands`,
    )
  return { spec, rest: words.slice(2) }
}

function helpFor(words: readonly string[]): string {
  if (words.length === 0) return topHelp(GROUPS, SINGLES, version())
  const found = find([...words.slice(0, 2)])
  return 'help' in found ? found.help : commandHelp(found.spec)
}

/** `stavily --json --url U run list` means `stavily run list --json --url U`: global options may come first. */
function globalsLast(argv: readonly string[]): string[] {
  const front: string[] = []
  let i = 0
  while (i < argv.length) {
    const a = argv[i]!
    if (a === '--json' || a.startsWith('--url=')) front.push(a)
    else if (a === '--url' && i + 1 < argv.length) front.push(a, argv[++i]!)
    else break
    i++
  }
  return [...argv.slice(i), ...front]
}

export async function runCli(rawArgv: readonly string[], io: CliIo): Promise<number> {
  const out = new Output(io)
  const argv = globalsLast(rawArgv)
  let json = argv.includes('--json')
  try {
    const [first] = argv
    if (first === undefined) {
      io.stderr(topHelp(GROUPS, SINGLES, version()))
      return EXIT.usage
    }
    if (first === 'help' || first === '--help' || first === '-h') {
      io.stdout(helpFor(argv.slice(1).filter((w) => !w.startsWith('-'))))
      return EXIT.ok
    }
    if (first === 'version' || first === '--version' || first === '-v') {
      io.stdout(json ? `${JSON.stringify({ version: version() })}\n` : `stavily ${version()}\n`)
      return EXIT.ok
    }
    if (first.startsWith('-'))
      throw usageError(`expected a command before ${first}`, 'run `stavily help` for the list of commands')
    const found = find(argv)
    if ('help' in found) {
      if (found.exit === EXIT.ok) io.stdout(found.help)
      else io.stderr(found.help)
      return found.exit
    }
    const { spec, rest } = found
    if (spec.passThrough) {
      json = false
      return await spec.run(context(io, out, rest, {}))
    }
    const parsed = parseCommand(spec, rest)
    if (parsed.opts.help) {
      io.stdout(commandHelp(spec))
      return EXIT.ok
    }
    json = parsed.opts.json === true
    return await spec.run(context(io, out, parsed.args, parsed.opts))
  } catch (err) {
    return report(io, out, err, json)
  }
}

function context(io: CliIo, out: Output, args: string[], opts: CommandContext['opts']): CommandContext {
  let client: ApiClient | undefined
  return {
    io,
    args,
    opts,
    json: opts.json === true,
    out,
    async client() {
      if (client) return client
      const target = await resolveTarget(io.env, typeof opts.url === 'string' ? opts.url : undefined)
      if (!target.token)
        throw new CliError(
          EXIT.auth,
          'not logged in: no API token',
          `run \`stavily login --url ${target.url}\` (or set STAVILY_TOKEN)`,
        )
      client = new ApiClient(target.url, target.token)
      return client
    },
  }
}

function report(io: CliIo, out: Output, err: unknown, json: boolean): number {
  if (isCliError(err)) {
    const hint = err.hint ? `\n${out.paint('hint:', 'dim', 'stderr')} ${err.hint}` : ''
    io.stderr(`${out.paint('error:', 'red', 'stderr')} ${err.message}${hint}\n`)
    if (json) {
      const body = 'body' in err ? (err as { body: object }).body : {}
      io.stdout(
        `${JSON.stringify({ error: { ...body, message: err.message, ...(err.hint ? { hint: err.hint } : {}), exitCode: err.exitCode } }, null, 2)}\n`,
      )
    }
    return err.exitCode
  }
  const e = err as Error
  if (e?.name === 'AbortError') {
    // Ctrl-C at a prompt.
    io.stderr('interrupted\n')
    return 130
  }
  io.stderr(
    `error: stavily failed unexpectedly: ${e?.message ?? String(err)}\n${io.env.STAVILY_DEBUG ? `${e?.stack}\n` : 'set STAVILY_DEBUG=1 for the stack trace and report it\n'}`,
  )
  return EXIT.failed
}
