import { ExpressionError } from './errors.ts'

export type TokenKind = 'number' | 'string' | 'identifier' | 'punct' | 'end'

export interface Token {
  kind: TokenKind
  /** The identifier or punctuation text, or the decoded string literal. */
  text: string
  /** The number literal's value. */
  number?: number
  /** 0-based offset in the source. */
  start: number
}

// Two-character operators first, so `<=` is not read as `<` then `=`.
const PUNCT = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '[', ']', '.', ',']
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '0': '\0',
}

// Identifiers may contain `-` after the first character, as step ids do (`steps.restart-web`):
// the language has no arithmetic, so a `-` inside a name is never a minus.
const isIdentStart = (c: string) => /[A-Za-z_]/.test(c)
const isIdentPart = (c: string) => /[A-Za-z0-9_-]/.test(c)
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9'

export function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const fail = (at: number, detail: string): never => {
    throw new ExpressionError('STAVILY_ERR_EXPRESSION_SYNTAX', source, at + 1, detail)
  }
  while (i < source.length) {
    const c = source[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
      continue
    }
    const start = i
    if (isDigit(c) || (c === '-' && isDigit(source[i + 1]))) {
      const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(source.slice(i))
      if (!m) fail(i, 'malformed number')
      const text = m![0]
      if (isIdentPart(source[i + text.length] ?? ''))
        fail(i, `malformed number "${text}${source[i + text.length]}"`)
      tokens.push({ kind: 'number', text, number: Number(text), start })
      i += text.length
      continue
    }
    if (isIdentStart(c)) {
      while (i < source.length && isIdentPart(source[i]!)) i++
      tokens.push({ kind: 'identifier', text: source.slice(start, i), start })
      continue
    }
    if (c === "'" || c === '"') {
      i++
      let text = ''
      for (;;) {
        if (i >= source.length) fail(start, `unterminated string literal; close it with ${c}`)
        const d = source[i]!
        if (d === c) break
        if (d === '\\') {
          const e = source[i + 1]
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
            text += String.fromCharCode(Number.parseInt(source.slice(i + 2, i + 6), 16))
            i += 6
            continue
          }
          if (e === undefined || !(e in ESCAPES)) fail(i, `unknown escape "\\${e ?? ''}" in string literal`)
          text += ESCAPES[e!]
          i += 2
          continue
        }
        text += d
        i++
      }
      i++
      tokens.push({ kind: 'string', text, start })
      continue
    }
    const op = PUNCT.find((p) => source.startsWith(p, i))
    if (op === undefined) {
      const hint =
        c === '='
          ? ' (use == to compare)'
          : c === '&' || c === '|'
            ? ' (use && or ||)'
            : c === '-' || c === '+'
              ? ' (there is no arithmetic)'
              : ''
      fail(i, `unexpected character "${c}"${hint}`)
    }
    tokens.push({ kind: 'punct', text: op!, start })
    i += op!.length
  }
  tokens.push({ kind: 'end', text: '', start: source.length })
  return tokens
}
