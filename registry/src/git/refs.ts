import { invalidArgument } from '../errors.ts'

// Checks a ref before it reaches a git command line, and picks the matching ref out of
// `git ls-remote` output.

const REF = /^[A-Za-z0-9@][A-Za-z0-9._/@+-]*$/

export function checkRef(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw invalidArgument(field, 'expected a tag, branch or full commit SHA', value)
  // git's own rules (check-ref-format) plus no leading "-" (an option) and no "..".
  if (
    !REF.test(value) ||
    value === '@' ||
    value.includes('..') ||
    value.endsWith('.lock') ||
    value.endsWith('/') ||
    value.length > 255
  )
    throw invalidArgument(
      field,
      'expected a tag, branch or full commit SHA (letters, digits, . _ / @ + -)',
      value,
    )
  return value
}

export const isFullSha = (ref: string): boolean => /^[0-9a-f]{40}$/.test(ref)
export const isShortSha = (ref: string): boolean => /^[0-9a-f]{7,39}$/.test(ref)

export interface RemoteRef {
  kind: 'tag' | 'branch'
  /** Full ref name, e.g. refs/tags/v1.0.0. */
  fullName: string
  /** The tag name for tags (what the version is compared with). */
  name: string
}

/** The ref `ref` names among `git ls-remote` lines; tags win over branches, as in git itself. */
export function pickRef(ref: string, lsRemote: string): RemoteRef | undefined {
  const names = new Set(
    lsRemote
      .split('\n')
      .map((line) => line.split('\t')[1]?.trim())
      .filter((n): n is string => n !== undefined && n !== ''),
  )
  const candidates: RemoteRef[] = ref.startsWith('refs/')
    ? [
        ...(ref.startsWith('refs/tags/')
          ? [{ kind: 'tag' as const, fullName: ref, name: ref.slice(10) }]
          : []),
        ...(ref.startsWith('refs/heads/')
          ? [{ kind: 'branch' as const, fullName: ref, name: ref.slice(11) }]
          : []),
      ]
    : [
        { kind: 'tag', fullName: `refs/tags/${ref}`, name: ref },
        { kind: 'branch', fullName: `refs/heads/${ref}`, name: ref },
      ]
  return candidates.find((c) => names.has(c.fullName))
}
