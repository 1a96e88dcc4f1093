// Validation of a permissions object, shared by the manifest validator (declared
// permissions) and the permission guard (the operator's grants): one grammar for both.
import type { PluginKind } from '../definition.ts'
import { envEntryProblem } from './env-names.ts'
import { normalizeAbsolutePath } from './fs-path.ts'
import { GRANTED, looksGranted, parseGrantedNet } from './granted.ts'
import { parseHostPattern } from './host-pattern.ts'
import type { ManifestProblem, Permissions } from './types.ts'

/**
 * The permission names a manifest may declare; anything else is rejected, never ignored.
 *
 * @example
 * ```ts
 * import { PERMISSION_NAMES } from '@stavily/sdk/manifest'
 * PERMISSION_NAMES.includes('net') // true
 * ```
 */
export const PERMISSION_NAMES = ['net', 'exec', 'secrets', 'fs', 'env', 'sql', 'smtp'] as const
const FS_NAMES = ['read', 'write'] as const

/**
 * What a secret name must look like: environment-variable style (`SLACK_TOKEN`), so it reads
 * the same in every secret store.
 *
 * @example
 * ```ts
 * import { SECRET_NAME } from '@stavily/sdk/manifest'
 * SECRET_NAME.test('SLACK_TOKEN') // true
 * SECRET_NAME.test('slack-token') // false
 * ```
 */
export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,127}$/
const COMMAND_NAME = /^[A-Za-z0-9_+@][A-Za-z0-9._+@-]*$/
/**
 * What the name of an operator-defined connection (`sql`) or relay (`smtp`) must look like:
 * lower case, so a manifest, a grant and a plugin's config spell it one way.
 *
 * @example
 * ```ts
 * import { CONNECTION_NAME } from '@stavily/sdk/manifest'
 * CONNECTION_NAME.test('reporting-db') // true
 * ```
 */
export const CONNECTION_NAME = /^[a-z][a-z0-9_-]{0,63}$/
const SHELL_CHARACTERS = /[;&|<>`$(){}[\]*?!~'"\\#=%^,]/

/**
 * Validates a permissions object at `path` (e.g. `stavily.permissions`), appending every
 * problem to `problems`; returns the normalised permissions (missing lists empty).
 */
export function validatePermissions(
  value: unknown,
  path: string,
  problems: ManifestProblem[],
  kind?: PluginKind,
  options: { grants?: boolean } = {},
): Permissions {
  // "$granted" leaves a manifest's targets to the operator; a grant always names them.
  const granted = (check: EntryCheck): EntryCheck =>
    options.grants
      ? (item) =>
          looksGranted(item)
            ? {
                ok: false,
                message: `${JSON.stringify(item)} is for manifests (the operator's choice); a grant names the targets themselves`,
              }
            : check(item)
      : check
  const out: Permissions = { net: [], exec: [], secrets: [], fs: { read: [], write: [] } }
  if (value === undefined) return out
  if (!isRecord(value)) {
    problems.push({
      path,
      message: `expected an object { ${PERMISSION_NAMES.join(', ')} }, got ${describe(value)}`,
    })
    return out
  }
  for (const key of Object.keys(value)) {
    if (!(PERMISSION_NAMES as readonly string[]).includes(key)) {
      problems.push({
        path: `${path}.${key}`,
        message: `unknown permission "${key}"; expected one of ${PERMISSION_NAMES.join(', ')}`,
      })
    }
  }
  out.net = list(value.net, `${path}.net`, problems, granted(netEntry))
  out.exec = list(value.exec, `${path}.exec`, problems, granted(orGranted(execEntry)))
  out.secrets = list(value.secrets, `${path}.secrets`, problems, secretEntry)
  const env = list(value.env, `${path}.env`, problems, envEntry)
  // Present only when declared, so manifests and grants without them keep their shape.
  if (env.length > 0) out.env = env
  const sql = list(value.sql, `${path}.sql`, problems, granted(orGranted(connectionEntry('sql'))))
  if (sql.length > 0) out.sql = sql
  const smtp = list(value.smtp, `${path}.smtp`, problems, granted(orGranted(connectionEntry('smtp'))))
  if (smtp.length > 0) out.smtp = smtp
  const fs = value.fs
  if (fs !== undefined) {
    if (!isRecord(fs)) {
      problems.push({
        path: `${path}.fs`,
        message: `expected an object { read, write }, got ${describe(fs)}`,
      })
    } else {
      for (const key of Object.keys(fs)) {
        if (!(FS_NAMES as readonly string[]).includes(key)) {
          problems.push({
            path: `${path}.fs.${key}`,
            message: `unknown fs permission "${key}"; expected read or write`,
          })
        }
      }
      out.fs.read = list(fs.read, `${path}.fs.read`, problems, granted(orGranted(fsEntry)))
      out.fs.write = list(fs.write, `${path}.fs.write`, problems, granted(orGranted(fsEntry)))
    }
  }
  // A sensor may run commands to observe (`git ls-remote`, `df -P`): which commands, if any,
  // is the operator's grant, with the same limits and audit as an action's.
  if (kind === 'output' && out.exec.length > 0) {
    problems.push({
      path: `${path}.exec`,
      message: 'an output cannot run commands; only actions and sensors may declare exec',
    })
  }
  if (kind === 'output' && env.length > 0) {
    problems.push({
      path: `${path}.env`,
      message:
        'an output runs no commands, so it has no command environment; only actions and sensors may declare env',
    })
  }
  if (kind === 'sensor' && smtp.length > 0) {
    problems.push({
      path: `${path}.smtp`,
      message: 'a sensor cannot send mail (sensors only observe); only actions and outputs may declare smtp',
    })
  }
  if (kind === 'sensor' && out.fs.write.length > 0) {
    problems.push({
      path: `${path}.fs.write`,
      message: 'a sensor cannot write files (sensors only observe); declare fs.read instead',
    })
  }
  return out
}

type EntryCheck = (value: unknown) => { ok: true; value: string } | { ok: false; message: string }

function list(value: unknown, path: string, problems: ManifestProblem[], check: EntryCheck): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) {
    problems.push({ path, message: `expected an array of strings, got ${describe(value)}` })
    return []
  }
  const out: string[] = []
  const seen = new Map<string, number>()
  value.forEach((item, index) => {
    const result = check(item)
    if (!result.ok) {
      problems.push({ path: `${path}[${index}]`, message: result.message })
      return
    }
    const first = seen.get(result.value)
    if (first !== undefined) {
      problems.push({
        path: `${path}[${index}]`,
        message: `duplicate of ${path}[${first}] (${JSON.stringify(result.value)})`,
      })
      return
    }
    seen.set(result.value, index)
    out.push(result.value)
  })
  return out
}

const netEntry: EntryCheck = (value) => {
  if (looksGranted(value)) {
    const grantedEntry = parseGrantedNet(value as string)
    return grantedEntry.ok ? { ok: true, value: grantedEntry.normalized } : grantedEntry
  }
  const parsed = parseHostPattern(value)
  return parsed.ok ? { ok: true, value: parsed.normalized } : parsed
}

/** Accepts the entry "$granted" (exactly) besides what `check` accepts. */
function orGranted(check: EntryCheck): EntryCheck {
  return (value) => {
    if (value === GRANTED) return { ok: true, value: GRANTED }
    if (looksGranted(value)) {
      return {
        ok: false,
        message: `${JSON.stringify(value)}: write "${GRANTED}" alone to leave these targets to the operator`,
      }
    }
    return check(value)
  }
}

function connectionEntry(permission: 'sql' | 'smtp'): EntryCheck {
  const hint = `expected the name of an operator-defined ${permission === 'sql' ? 'PostgreSQL connection' : 'SMTP relay'} such as "main" (a-z, 0-9, _ and -, starting with a letter) or "${GRANTED}"`
  return (value) => {
    if (typeof value !== 'string') return { ok: false, message: `${hint}, got ${describe(value)}` }
    if (!CONNECTION_NAME.test(value))
      return { ok: false, message: `${JSON.stringify(value)} is not a valid name; ${hint}` }
    return { ok: true, value }
  }
}

const execEntry: EntryCheck = (value) => {
  const hint = 'expected a command name such as "systemctl" or an absolute path such as "/usr/bin/systemctl"'
  if (typeof value !== 'string') return { ok: false, message: `${hint}, got ${describe(value)}` }
  const shown = JSON.stringify(value)
  if (value === '') return { ok: false, message: `must not be empty; ${hint}` }
  if (/\s/.test(value)) {
    return { ok: false, message: `${shown} contains whitespace; ${hint} (arguments are passed at call time)` }
  }
  const shell = SHELL_CHARACTERS.exec(value)
  if (shell) {
    return {
      ok: false,
      message: `${shown} contains the shell character "${shell[0]}"; commands run without a shell, ${hint}`,
    }
  }
  if (value.startsWith('/')) {
    const normalized = normalizeAbsolutePath(value)
    if (normalized !== value || value.endsWith('/')) {
      return { ok: false, message: `${shown} is not a normalised absolute path; ${hint}` }
    }
    return { ok: true, value }
  }
  if (value.includes('/')) return { ok: false, message: `${shown} is a relative path; ${hint}` }
  if (!COMMAND_NAME.test(value))
    return { ok: false, message: `${shown} is not a valid command name; ${hint}` }
  return { ok: true, value }
}

const secretEntry: EntryCheck = (value) => {
  const hint = 'expected an upper-case name such as "SLACK_TOKEN" (A-Z, 0-9, _; starting with a letter)'
  if (typeof value !== 'string') return { ok: false, message: `${hint}, got ${describe(value)}` }
  if (looksGranted(value)) {
    return {
      ok: false,
      message: `secrets cannot be left to the operator ("${GRANTED}"): a plugin names the secrets it reads; ${hint}`,
    }
  }
  if (!SECRET_NAME.test(value))
    return { ok: false, message: `${JSON.stringify(value)} is not a valid secret name; ${hint}` }
  return { ok: true, value }
}

const envEntry: EntryCheck = (value) => {
  const problem = envEntryProblem(value)
  return problem === undefined ? { ok: true, value: value as string } : { ok: false, message: problem }
}

const fsEntry: EntryCheck = (value) => {
  const hint = 'expected an absolute path prefix such as "/var/log/app"'
  if (typeof value !== 'string') return { ok: false, message: `${hint}, got ${describe(value)}` }
  const shown = JSON.stringify(value)
  if (!value.startsWith('/')) return { ok: false, message: `${shown} is not absolute; ${hint}` }
  if (value.includes('\0')) return { ok: false, message: `${shown} contains a NUL character; ${hint}` }
  if (value.split('/').some((segment) => segment === '..' || segment === '.')) {
    return {
      ok: false,
      message: `${shown} contains "." or ".." segments; write the normalised path, ${hint}`,
    }
  }
  return { ok: true, value: normalizeAbsolutePath(value)! }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  return typeof value
}
