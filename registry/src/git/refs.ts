import { invalidArgument } from '../errors.ts'

// Checks a ref before it reaches a git command line.

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
