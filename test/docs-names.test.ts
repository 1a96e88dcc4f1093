import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// The docs name plugins and commands in their examples; a reader copies them. Every
// `@stavily/plugin-…` they name must be a first-party plugin in plugins/, and every
// `stavily <command>` in their code must be a command the CLI accepts (its --help lists
// them), so an example never sends a reader to something that does not exist.

const root = new URL('..', import.meta.url).pathname

function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f))
  const plugins = readdirSync(join(root, 'plugins'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join('plugins', d.name, 'README.md'))
    .filter((f) => exists(f))
  return ['README.md', ...docs, ...plugins, join('templates', 'README.md')].filter(exists)
}

function exists(file: string): boolean {
  try {
    readFileSync(join(root, file))
    return true
  } catch {
    return false
  }
}

function firstPartyPlugins(): Set<string> {
  const names = new Set<string>()
  for (const d of readdirSync(join(root, 'plugins'), { withFileTypes: true })) {
    if (!d.isDirectory()) continue
    const pkg = join(root, 'plugins', d.name, 'package.json')
    try {
      names.add((JSON.parse(readFileSync(pkg, 'utf8')) as { name: string }).name)
    } catch {
      // not a plugin package (shared test helpers live beside them)
    }
  }
  return names
}

/**
 * The commands a reader would type: inline code spans, and fenced code blocks. A block of a
 * session transcript (lines starting `$ `) counts only its prompt lines, since the rest is
 * output, and a prompt the CLI answers with `unknown command` is a documented mistake.
 */
function codeOf(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => {
    const lines = m[1]!.split('\n')
    if (!lines.some((l) => l.startsWith('$ '))) return m[1]!
    return lines
      .filter((l, i) => l.startsWith('$ ') && !/unknown command/.test(lines[i + 1] ?? ''))
      .join('\n')
  })
  const prose = markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '')
  const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!)
  return [...blocks, ...spans]
}

/** `group command` pairs and single commands from `stavily --help`. */
function cliCommands(): { single: Set<string>; grouped: Map<string, Set<string>> } {
  const help = execFileSync(process.execPath, [join(root, 'core/bin/stavily.js'), '--help'], {
    encoding: 'utf8',
  })
  const single = new Set<string>()
  const grouped = new Map<string, Set<string>>()
  const listing = help.slice(help.indexOf('commands:'), help.indexOf('\noptions every command'))
  for (const line of listing.split('\n').slice(1)) {
    const m = /^ {2}([a-z-]+)(?: ([a-z-]+))?(?: |$)/.exec(line)
    if (!m) continue
    const [, first, second] = m
    if (second && !/^[A-Z[]/.test(second)) {
      if (!grouped.has(first!)) grouped.set(first!, new Set())
      grouped.get(first!)!.add(second)
    } else single.add(first!)
  }
  return { single, grouped }
}

describe('the docs name only what exists', () => {
  it('every @stavily/plugin-… named in the docs is a first-party plugin', () => {
    const known = firstPartyPlugins()
    const unknown: string[] = []
    for (const file of markdownFiles()) {
      const text = readFileSync(join(root, file), 'utf8')
      for (const m of text.matchAll(/@stavily\/plugin-[a-z0-9][a-z0-9-]*[a-z0-9]/g)) {
        if (!known.has(m[0])) unknown.push(`${file}: ${m[0]}`)
      }
    }
    expect(unknown).toEqual([])
  })

  it('every `stavily COMMAND` in the docs is a command of the CLI', () => {
    const { single, grouped } = cliCommands()
    expect(grouped.get('workflow')).toContain('apply')
    const unknown: string[] = []
    for (const file of markdownFiles()) {
      for (const code of codeOf(readFileSync(join(root, file), 'utf8'))) {
        // `stavily` as a command word: at a line start, after a prompt, a pipe, `&&`, `npx`...
        for (const m of code.matchAll(/(?:^|[\s;&|($`]|npx )stavily ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?/gm)) {
          const [, first, second] = m
          if (single.has(first!)) continue
          const subs = grouped.get(first!)
          if (subs && second && subs.has(second)) continue
          if (subs && !second) continue // `stavily plugin --help`, or a group named in prose
          unknown.push(`${file}: stavily ${first}${second ? ` ${second}` : ''}`)
        }
      }
    }
    expect(unknown).toEqual([])
  })
})
