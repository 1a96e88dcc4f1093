import { parseArgs } from 'node:util'
import { CreateError } from './errors.js'
import { PLUGIN_KINDS, type PluginKind, parsePluginKind } from './plugin-kind.js'

export interface CliArgs {
  name?: string
  kind?: PluginKind
  description?: string
  /** `npm`, or the SDK folder or tarball to vendor (see local-sdk.ts). */
  sdk?: string
  yes: boolean
  help: boolean
}

export const USAGE = `Usage: npm create stavily-plugin@latest <name> [-- options]
       create-stavily-plugin <name> [options]

Scaffolds a Stavily plugin project in ./<name> (for @scope/name: ./name;
with ".": in the current folder, named after it). The folder must be empty.

Options:
  -k, --kind <kind>          ${PLUGIN_KINDS.join(' | ')}
  -d, --description <text>   one line for package.json and the README
      --sdk <path|npm>       where @stavily/sdk comes from: the sdk folder of a Stavily
                             checkout or an npm pack tarball (copied into vendor/), or npm;
                             run from a checkout, its own SDK is the default
  -y, --yes                  do not ask; use defaults for what is not given (kind: action)
  -h, --help                 show this help

Examples:
  npm create stavily-plugin@latest my-plugin
  npm create stavily-plugin@latest my-plugin -- --kind sensor --description "Checks a URL" --yes
`

export function parseCliArgs(argv: string[]): CliArgs {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    // parseArgs' own messages name the option ("Unknown option '--knd'"); keep them.
    const reason = error instanceof Error ? error.message : String(error)
    throw new CreateError('STAVILY_ERR_CREATE_USAGE', `${reason}. Run with --help to see the options.`, {
      cause: error,
    })
  }
  const { values, positionals } = parsed
  if (positionals.length > 1) {
    throw new CreateError(
      'STAVILY_ERR_CREATE_USAGE',
      `expected one project name, got ${positionals.length}: ${positionals.join(' ')}. Quote a description that has spaces: --description "Checks a URL"`,
    )
  }
  return {
    name: positionals[0],
    kind: values.kind === undefined ? undefined : parsePluginKind(values.kind, '--kind'),
    description: values.description,
    sdk: values.sdk,
    yes: values.yes ?? false,
    help: values.help ?? false,
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      kind: { type: 'string', short: 'k' },
      description: { type: 'string', short: 'd' },
      sdk: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}
