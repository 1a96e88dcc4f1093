import { builtinModules } from 'node:module'
import type { Plugin } from 'esbuild'

// The esbuild plugin that stops imports a sandbox cannot satisfy, and maps `provided`
// packages to files of the registry host. Its callbacks are registered with narrow filters,
// so esbuild only calls into JavaScript for the few imports that need a decision; every
// other import is resolved natively (a publish stays well under a second).
// - Node built-ins and host-only packages are collected (every one, with its importer) and
//   the build fails once with all of them listed (bundle.ts);
// - `provided` specifiers (the registry's own @stavily/sdk in development and tests)
//   resolve to the given files.
// Imports that leave the checkout are found afterwards from the metafile (bundle-inputs.ts).

export interface ForbiddenImport {
  specifier: string
  importer: string
  reason: 'node-builtin' | 'host-only' | 'outside-checkout'
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
const BUILTIN_NAMES = [...new Set(builtinModules.map((m) => m.split('/')[0]!))]
/** `node:anything`, and every built-in with or without a sub-path (`fs`, `fs/promises`). */
const BUILTIN_FILTER = new RegExp(`^(?:node:.*|(?:${BUILTIN_NAMES.map(escapeRegex).join('|')})(?:/.*)?)$`)

export function importGuard(opts: {
  root: string
  provided: Readonly<Record<string, string>>
  hostOnly: readonly string[]
  found: ForbiddenImport[]
}): Plugin {
  const { root, provided, hostOnly, found } = opts
  const shown = (importer: string) =>
    importer.startsWith(`${root}/`) ? importer.slice(root.length + 1) : importer
  return {
    name: 'stavily-import-guard',
    setup(build) {
      build.onResolve({ filter: BUILTIN_FILTER }, (args) => {
        found.push({ specifier: args.path, importer: shown(args.importer), reason: 'node-builtin' })
        // Keep going (as an external) so the one error lists every offending import.
        return { path: args.path, external: true }
      })
      if (hostOnly.length > 0)
        build.onResolve(
          { filter: new RegExp(`^(?:${hostOnly.map(escapeRegex).join('|')})(?:/.*)?$`) },
          (args) => {
            found.push({ specifier: args.path, importer: shown(args.importer), reason: 'host-only' })
            return { path: args.path, external: true }
          },
        )
      const names = Object.keys(provided)
      if (names.length > 0)
        build.onResolve({ filter: new RegExp(`^(?:${names.map(escapeRegex).join('|')})$`) }, (args) => ({
          path: provided[args.path]!,
        }))
    },
  }
}

/** The one message listing every forbidden import and what to do about each kind. */
export function forbiddenImportsMessage(found: readonly ForbiddenImport[]): string {
  const line = (f: ForbiddenImport) => `  - ${f.specifier} (imported by ${f.importer})`
  const parts: string[] = []
  const builtins = found.filter((f) => f.reason === 'node-builtin')
  const hostOnly = found.filter((f) => f.reason === 'host-only')
  const outside = found.filter((f) => f.reason === 'outside-checkout')
  if (builtins.length > 0)
    parts.push(
      `Node built-ins do not exist in the plugin sandbox:\n${builtins.map(line).join('\n')}\n` +
        '  Use the capabilities on ctx instead (ctx.fetch, ctx.fs, ctx.exec, ctx.secrets, ctx.state), and dependencies that do not need Node.',
    )
  if (hostOnly.length > 0)
    parts.push(
      `host-only packages cannot run in the plugin sandbox:\n${hostOnly.map(line).join('\n')}\n` +
        '  Import only from @stavily/sdk (its root entry) and sandbox-safe libraries; @stavily/sdk/testing belongs in tests, not in the plugin.',
    )
  if (outside.length > 0)
    parts.push(
      `imports that resolve outside the repository checkout:\n${outside.map(line).join('\n')}\n` +
        '  Keep every source file inside the repository (no symlinks out of it), and list packages as dependencies.',
    )
  return `the plugin bundle has ${found.length} forbidden import${found.length === 1 ? '' : 's'}:\n${parts.join('\n')}`
}
