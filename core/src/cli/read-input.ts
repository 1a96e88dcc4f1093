import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CliError, usageError } from './cli-error.ts'
import { EXIT } from './exit-codes.ts'
import type { CliIo } from './io.ts'

// Files, standard input and JSON arguments, with errors that say which argument was wrong.

/** A document argument: a path, or `-` for standard input. */
export async function readDocument(io: CliIo, file: string): Promise<{ name: string; text: string }> {
  if (file === '-') return { name: '(stdin)', text: await io.readStdin() }
  try {
    return { name: file, text: await readFile(resolve(io.cwd, file), 'utf8') }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw usageError(`${file}: no such file`)
    if (code === 'EISDIR') throw usageError(`${file}: is a folder, expected a YAML or JSON file`)
    throw new CliError(EXIT.failed, `${file}: cannot read it (${code ?? (err as Error).message})`)
  }
}

/** `--event '{"data":…}'` or `--event @event.json` (`@-` reads standard input). */
export async function jsonArgument(io: CliIo, option: string, value: string): Promise<unknown> {
  let text = value
  let from = `--${option}`
  if (value.startsWith('@')) {
    const doc = await readDocument(io, value.slice(1))
    text = doc.text
    from = `--${option} ${value}`
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw usageError(
      `${from}: expected JSON (${(err as Error).message})`,
      `write it inline or put it in a file and pass --${option} @FILE`,
    )
  }
}

/**
 * A secret or token that must stay out of shell history and out of the screen: the file,
 * else piped standard input (one trailing newline dropped, as `echo` adds it), else asked
 * for on the terminal without echo.
 */
export async function readSecretValue(io: CliIo, question: string, file?: string): Promise<string> {
  if (file !== undefined) {
    try {
      return await readFile(resolve(io.cwd, file), 'utf8')
    } catch (err) {
      throw usageError(
        `--value-file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      )
    }
  }
  if (io.stdinIsTTY) return io.promptHidden(question)
  return (await io.readStdin()).replace(/\r?\n$/, '')
}
