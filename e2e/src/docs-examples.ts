// The e2e tests run docs/workflows.md's own examples, so the docs cannot drift from what the
// platform does: a named example is the yaml block that starts with `# example: <name>`.
import { readFileSync } from 'node:fs'
import { REPO_ROOT } from './git.ts'

/** The `# example: <name>` yaml block of docs/workflows.md. */
export function docExample(name: string): string {
  const text = readFileSync(`${REPO_ROOT}/docs/workflows.md`, 'utf8')
  const m = new RegExp(`\`\`\`yaml\\n(# example: ${name}\\n[\\s\\S]*?)\`\`\``).exec(text)
  if (!m) throw new Error(`docs/workflows.md has no example "${name}"`)
  return m[1]!
}

/** `text` with each `from` replaced once; fails when the docs changed under the test. */
export function adapt(text: string, changes: [string, string][]): string {
  let out = text
  for (const [from, to] of changes) {
    if (!out.includes(from)) throw new Error(`the docs example no longer contains ${JSON.stringify(from)}`)
    out = out.replace(from, to)
  }
  return out
}
