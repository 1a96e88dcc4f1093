import { ApiError } from '../api-client.ts'
import { CliError, usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import type { Output } from '../output.ts'

// What the workflow commands share: a refused document printed compiler-style
// (`FILE:LINE:COLUMN: path: message`, which editors jump to), and a document's name.

/** Prints the server's issues for `file` and returns the error to throw; other errors pass through. */
export function documentRefused(err: unknown, file: string, out: Output): unknown {
  if (!(err instanceof ApiError) || err.status !== 400 || !err.body.issues?.length) return err
  const issues = err.body.issues
  for (const i of issues) {
    const where = i.line !== undefined ? `${file}:${i.line}:${i.column ?? 1}` : file
    out.note(`${where}: ${i.path ? `${i.path}: ` : ''}${i.message}`)
  }
  return new CliError(
    EXIT.failed,
    `${file}: the workflow is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'})`,
    'fix the lines above; docs/workflows.md describes every field',
  )
}

/** The `name:` of a YAML or JSON document, read locally (the server has not seen the file yet). */
export async function documentName(file: string, text: string): Promise<string> {
  const { parse } = await import('yaml')
  let doc: unknown
  try {
    doc = parse(text)
  } catch (err) {
    throw usageError(`${file}: not valid YAML or JSON (${(err as Error).message.split('\n')[0]})`)
  }
  const name = (doc as { name?: unknown } | null)?.name
  if (typeof name !== 'string' || name === '') throw usageError(`${file}: the document has no \`name\` field`)
  return name
}

export const enc = encodeURIComponent
