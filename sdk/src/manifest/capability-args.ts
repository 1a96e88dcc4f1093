// Argument rules of the sql, fs.watch and smtp capabilities, shared by the sandbox host and
// the SDK's test harness so a plugin's call is refused the same way in both. Each check
// returns what is wrong (naming the argument) or undefined.

/**
 * Most parameters one query may bind; PostgreSQL's own ceiling is 65535.
 *
 * @example
 * ```ts
 * import { SQL_MAX_PARAMS } from '@stavily/sdk/manifest'
 * const params = ids.slice(0, SQL_MAX_PARAMS)
 * ```
 */
export const SQL_MAX_PARAMS = 1000
/**
 * Longest query text, in characters.
 *
 * @example
 * ```ts
 * import { SQL_MAX_TEXT } from '@stavily/sdk/manifest'
 * if (text.length > SQL_MAX_TEXT) throw new Error('query too long')
 * ```
 */
export const SQL_MAX_TEXT = 1024 * 1024
/**
 * Rows a query may return when the plugin does not say (`options.maxRows`).
 *
 * @example
 * ```ts
 * import { SQL_DEFAULT_ROWS } from '@stavily/sdk/manifest'
 * const { rows } = await ctx.sql.query('main', 'SELECT * FROM jobs') // at most SQL_DEFAULT_ROWS rows
 * ```
 */
export const SQL_DEFAULT_ROWS = 1000
/**
 * The most rows a query may ask for with `options.maxRows`.
 *
 * @example
 * ```ts
 * import { SQL_MAX_ROWS } from '@stavily/sdk/manifest'
 * await ctx.sql.query('main', 'SELECT id FROM jobs', [], { maxRows: SQL_MAX_ROWS })
 * ```
 */
export const SQL_MAX_ROWS = 100_000
/**
 * A LISTEN channel: an unquoted PostgreSQL identifier (at most 63 bytes).
 *
 * @example
 * ```ts
 * import { SQL_CHANNEL } from '@stavily/sdk/manifest'
 * SQL_CHANNEL.test('orders_created') // true
 * SQL_CHANNEL.test('orders; DROP TABLE x') // false
 * ```
 */
export const SQL_CHANNEL = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/
/**
 * Recipients of one message (to, cc and bcc together).
 *
 * @example
 * ```ts
 * import { MAIL_MAX_RECIPIENTS } from '@stavily/sdk/manifest'
 * const to = team.slice(0, MAIL_MAX_RECIPIENTS)
 * ```
 */
export const MAIL_MAX_RECIPIENTS = 100
// A practical address check: the relay decides the rest; no CR/LF (header injection), and
// no ",", ";" or "@" in an unquoted display name, where the mail library would read more
// addresses (one entry must be one recipient, or the recipient cap means nothing).
const MAIL_ADDRESS =
  /^(?:"[^"\r\n]{0,200}"\s*<[^<>\s@]+@[^<>\s@]+>|[^\s<>"@,;]+@[^\s<>"@,;]+|[^\r\n<>"@,;]{1,200}<[^<>\s@]+@[^<>\s@]+>)$/
const HEADER_NAME = /^X-[A-Za-z0-9-]{1,100}$/

/**
 * What is wrong with `params` of `ctx.sql.query`, or undefined.
 *
 * @example
 * ```ts
 * import { sqlParamsProblem } from '@stavily/sdk/manifest'
 * sqlParamsProblem([1, 'a', { x: 1 }]) // 'sql.query params[2]: expected a string, number, boolean or null, got an object'
 * ```
 */
export function sqlParamsProblem(params: unknown): string | undefined {
  if (!Array.isArray(params) || params.length > SQL_MAX_PARAMS)
    return `sql.query params: expected an array of at most ${SQL_MAX_PARAMS} values, got ${kindOf(params)}`
  for (let i = 0; i < params.length; i++) {
    const v = params[i]
    const ok =
      v === null ||
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v))
    if (!ok)
      return `sql.query params[${i}]: expected a string, number, boolean or null (pass JSON as a string and cast it, $${i + 1}::jsonb), got ${kindOf(v)}`
    if (typeof v === 'string' && v.includes('\0'))
      return `sql.query params[${i}]: must not contain a NUL character`
  }
  return undefined
}

/**
 * What is wrong with the text of `ctx.sql.query`, or undefined.
 *
 * @example
 * ```ts
 * import { sqlTextProblem } from '@stavily/sdk/manifest'
 * sqlTextProblem('') // 'sql.query text: expected a non-empty SQL statement ...'
 * ```
 */
export function sqlTextProblem(text: unknown): string | undefined {
  if (typeof text !== 'string' || text.trim() === '' || text.length > SQL_MAX_TEXT)
    return `sql.query text: expected a non-empty SQL statement of at most ${SQL_MAX_TEXT} characters, got ${kindOf(text)}`
  if (text.includes('\0')) return 'sql.query text: must not contain a NUL character'
  return undefined
}

/**
 * What is wrong with a LISTEN channel name, or undefined.
 *
 * @example
 * ```ts
 * import { sqlChannelProblem } from '@stavily/sdk/manifest'
 * sqlChannelProblem('jobs; DROP TABLE x') // 'sql.listen channel: ...'
 * ```
 */
export function sqlChannelProblem(channel: unknown): string | undefined {
  if (typeof channel === 'string' && SQL_CHANNEL.test(channel)) return undefined
  return `sql.listen channel: expected a channel name (letters, digits, _ and $, starting with a letter or _, at most 63), got ${kindOf(channel)}`
}

/**
 * What is wrong with a message for `ctx.smtp.send`, or undefined.
 *
 * @example
 * ```ts
 * import { mailMessageProblem } from '@stavily/sdk/manifest'
 * mailMessageProblem({ to: 'ops@example.com', subject: 'hi', text: 'x' }) // undefined
 * ```
 */
export function mailMessageProblem(message: unknown, maxBytes: number): string | undefined {
  if (message === null || typeof message !== 'object' || Array.isArray(message))
    return `smtp.send message: expected an object { to, subject, text or html }, got ${kindOf(message)}`
  const m = message as Record<string, unknown>
  const known = ['from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'text', 'html', 'headers']
  for (const key of Object.keys(m))
    if (!known.includes(key))
      return `smtp.send message.${key}: unknown field; expected one of ${known.join(', ')}`
  let recipients = 0
  for (const field of ['to', 'cc', 'bcc'] as const) {
    const value = m[field]
    if (value === undefined && field !== 'to') continue
    const list = typeof value === 'string' ? [value] : value
    if (!Array.isArray(list) || (field === 'to' && list.length === 0))
      return `smtp.send message.${field}: expected an address or a list of addresses, got ${kindOf(value)}`
    for (let i = 0; i < list.length; i++) {
      const problem = addressProblem(list[i])
      if (problem) return `smtp.send message.${field}${typeof value === 'string' ? '' : `[${i}]`}: ${problem}`
    }
    recipients += list.length
  }
  if (recipients > MAIL_MAX_RECIPIENTS)
    return `smtp.send message: at most ${MAIL_MAX_RECIPIENTS} recipients (to, cc and bcc), got ${recipients}`
  for (const field of ['from', 'replyTo'] as const) {
    if (m[field] === undefined) continue
    const problem = addressProblem(m[field])
    if (problem) return `smtp.send message.${field}: ${problem}`
  }
  if (typeof m.subject !== 'string' || /[\r\n]/.test(m.subject) || m.subject.length > 998)
    return `smtp.send message.subject: expected one line of at most 998 characters, got ${kindOf(m.subject)}`
  if (m.text === undefined && m.html === undefined) return 'smtp.send message: expected text or html'
  let size = 0
  for (const field of ['text', 'html'] as const) {
    if (m[field] === undefined) continue
    if (typeof m[field] !== 'string')
      return `smtp.send message.${field}: expected a string, got ${kindOf(m[field])}`
    size += (m[field] as string).length
  }
  if (size > maxBytes)
    return `smtp.send message: ${size} characters of text and html; the limit is ${maxBytes}`
  if (m.headers !== undefined) {
    if (m.headers === null || typeof m.headers !== 'object' || Array.isArray(m.headers))
      return `smtp.send message.headers: expected an object of X- headers, got ${kindOf(m.headers)}`
    for (const [name, value] of Object.entries(m.headers)) {
      if (!HEADER_NAME.test(name))
        return `smtp.send message.headers.${name}: only X- headers may be set (letters, digits and -); the host sets the others`
      if (typeof value !== 'string' || /[\r\n]/.test(value) || value.length > 998)
        return `smtp.send message.headers.${name}: expected one line of at most 998 characters`
    }
  }
  return undefined
}

function addressProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 320 || !MAIL_ADDRESS.test(value.trim()))
    return `expected an address such as "ops@example.com" or "Ops <ops@example.com>", got ${kindOf(value)}`
  return undefined
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string')
    return value.length > 60 ? `a string of ${value.length} characters` : JSON.stringify(value)
  if (typeof value === 'object') return 'an object'
  return `${typeof value} ${String(value)}`
}
