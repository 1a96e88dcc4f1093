import { builtinModules } from 'node:module'
import { CreateError } from './errors.js'

/** npm refuses longer names (validate-npm-package-name's limit). */
const MAX_NAME_LENGTH = 214
const EXAMPLE = 'Valid names look like "my-plugin" or "@acme/stavily-plugin-restart"'
const SCOPED = /^@([^/]+)\/([^/]+)$/
const RESERVED = new Set(['node_modules', 'favicon.ico'])

export interface PluginName {
  /** The npm package name, written into package.json. */
  packageName: string
  /** The folder to create: the unscoped part, so `@acme/x` lands in `./x`. */
  folderName: string
}

/**
 * Checks a name against the rules npm applies to NEW packages, and returns the reasons
 * it fails all at once, so the user fixes the name in one go.
 */
export function nameProblems(name: string): string[] {
  const problems: string[] = []
  if (name.length === 0) return ['is empty']
  if (name.trim() !== name) problems.push('has leading or trailing spaces')
  if (name.length > MAX_NAME_LENGTH) problems.push(`is longer than ${MAX_NAME_LENGTH} characters`)
  if (name.toLowerCase() !== name) problems.push('has uppercase letters')
  if (/[~'!()*]/.test(name)) problems.push("has one of the characters ~'!()*")

  const scoped = SCOPED.exec(name)
  if (name.startsWith('@') && !scoped) {
    problems.push('starts with "@" but is not of the form @scope/name')
    return problems
  }
  const parts = scoped ? [scoped[1]!, scoped[2]!] : [name]
  const bare = parts[parts.length - 1]!
  if (/^[._]/.test(parts[0]!) || /^[._]/.test(bare)) problems.push('starts with "." or "_"')
  if (parts.some((part) => encodeURIComponent(part) !== part)) {
    problems.push('has characters that are not URL-safe (use letters, digits, "-", "." and "_")')
  }
  if (!scoped && (RESERVED.has(name) || builtinModules.includes(name))) {
    problems.push('is reserved (a Node.js core module or npm name)')
  }
  return problems
}

export function validatePluginName(name: string): PluginName {
  const problems = nameProblems(name)
  if (problems.length > 0) {
    throw new CreateError(
      'STAVILY_ERR_CREATE_INVALID_NAME',
      `"${name}" is not a valid npm package name: it ${problems.join('; it ')}. ${EXAMPLE}`,
    )
  }
  const scoped = SCOPED.exec(name)
  return { packageName: name, folderName: scoped ? scoped[2]! : name }
}
