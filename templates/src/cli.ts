import { parseCliArgs, USAGE } from './args.js'
import { colorsFor } from './colors.js'
import { createProject } from './create.js'
import { isCreateError } from './errors.js'
import { createPrompter, type Prompter } from './prompter.js'

/**
 * `npm create stavily-plugin` entry point: wires the process (argv, terminals, exit code)
 * to `createProject`, which knows nothing about `process`.
 */
async function main(): Promise<number> {
  const colors = colorsFor(process.stdout, process.env)
  const errColors = colorsFor(process.stderr, process.env)
  let prompter: Prompter | undefined
  try {
    const args = parseCliArgs(process.argv.slice(2))
    if (args.help) {
      process.stdout.write(USAGE)
      return 0
    }
    // Prompts need a person at a terminal; in pipes and CI the flags must say everything.
    if (process.stdin.isTTY && !args.yes) prompter = createPrompter(process.stdin, process.stdout)
    await createProject(args, {
      cwd: process.cwd(),
      env: process.env,
      prompter,
      colors,
      log: (message) => process.stdout.write(`${message}\n`),
      warn: (message) => process.stderr.write(`${errColors.red('✖')} ${message}\n`),
    })
    return 0
  } catch (error) {
    if (isCreateError(error)) {
      process.stderr.write(`${errColors.red('error')} ${error.message}\n`)
      return error.exitCode
    }
    // A bug or an I/O failure (disk full, permissions): show it whole, it is what a bug report needs.
    process.stderr.write(`${errColors.red('error')} unexpected failure while creating the plugin:\n`)
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return 1
  } finally {
    prompter?.close()
  }
}

process.exitCode = await main()
