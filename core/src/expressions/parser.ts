import type { BinaryOperator, Expression, Node } from './ast.ts'
import { ExpressionError } from './errors.ts'
import { arity, FUNCTION_NAMES } from './functions.ts'
import { EXPRESSION_POLICY } from './policy.ts'
import { type Token, tokenize } from './tokenizer.ts'

// A recursive-descent parser; precedence from loosest to tightest:
//   ||  →  &&  →  == !=  →  < <= > >=  →  !  →  member access / call  →  literal, name, ( )
// Depth is counted on every descent, so no input can recurse deeper than maxDepth.

/** Property names that would reach an object's prototype machinery: refused wherever they appear. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

const KEYWORDS: Record<string, boolean | null> = { true: true, false: false, null: null }

export function parseExpression(source: string): Expression {
  if (source.length > EXPRESSION_POLICY.maxExpressionLength) {
    throw new ExpressionError(
      'STAVILY_ERR_EXPRESSION_LIMIT',
      source,
      EXPRESSION_POLICY.maxExpressionLength + 1,
      `expression is ${source.length} characters long; at most ${EXPRESSION_POLICY.maxExpressionLength} are allowed`,
    )
  }
  const p = new Parser(source, tokenize(source))
  if (p.peek().kind === 'end') p.fail(p.peek(), 'empty expression')
  const ast = p.parseOr(0)
  const rest = p.peek()
  if (rest.kind !== 'end') p.fail(rest, `unexpected ${show(rest)} after the end of the expression`)
  return { source, ast }
}

function show(t: Token): string {
  if (t.kind === 'end') return 'end of expression'
  if (t.kind === 'string') return `string ${JSON.stringify(t.text)}`
  return `"${t.text}"`
}

class Parser {
  private i = 0
  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  peek(): Token {
    return this.tokens[this.i]!
  }

  private next(): Token {
    const t = this.tokens[this.i]!
    if (t.kind !== 'end') this.i++
    return t
  }

  private isPunct(text: string): boolean {
    const t = this.peek()
    return t.kind === 'punct' && t.text === text
  }

  private expect(text: string, what: string): Token {
    const t = this.peek()
    if (t.kind !== 'punct' || t.text !== text) this.fail(t, `expected ${what}, got ${show(t)}`)
    return this.next()
  }

  fail(t: Token, detail: string): never {
    throw new ExpressionError('STAVILY_ERR_EXPRESSION_SYNTAX', this.source, t.start + 1, detail)
  }

  private guard(depth: number): void {
    if (depth > EXPRESSION_POLICY.maxDepth) {
      throw new ExpressionError(
        'STAVILY_ERR_EXPRESSION_LIMIT',
        this.source,
        this.peek().start + 1,
        `expression is nested more than ${EXPRESSION_POLICY.maxDepth} levels deep`,
      )
    }
  }

  parseOr(depth: number): Node {
    this.guard(depth)
    let left = this.parseAnd(depth + 1)
    while (this.isPunct('||')) {
      this.next()
      left = { kind: 'logical', operator: '||', left, right: this.parseAnd(depth + 1), start: left.start }
    }
    return left
  }

  private parseAnd(depth: number): Node {
    this.guard(depth)
    let left = this.parseEquality(depth + 1)
    while (this.isPunct('&&')) {
      this.next()
      left = {
        kind: 'logical',
        operator: '&&',
        left,
        right: this.parseEquality(depth + 1),
        start: left.start,
      }
    }
    return left
  }

  private parseEquality(depth: number): Node {
    this.guard(depth)
    let left = this.parseComparison(depth + 1)
    while (this.isPunct('==') || this.isPunct('!=')) {
      const op = this.next().text as BinaryOperator
      left = { kind: 'binary', operator: op, left, right: this.parseComparison(depth + 1), start: left.start }
    }
    return left
  }

  private parseComparison(depth: number): Node {
    this.guard(depth)
    let left = this.parseUnary(depth + 1)
    while (this.isPunct('<') || this.isPunct('<=') || this.isPunct('>') || this.isPunct('>=')) {
      const op = this.next().text as BinaryOperator
      left = { kind: 'binary', operator: op, left, right: this.parseUnary(depth + 1), start: left.start }
    }
    return left
  }

  private parseUnary(depth: number): Node {
    this.guard(depth)
    if (this.isPunct('!')) {
      const t = this.next()
      return { kind: 'unary', operator: '!', operand: this.parseUnary(depth + 1), start: t.start }
    }
    return this.parsePostfix(depth + 1)
  }

  private parsePostfix(depth: number): Node {
    let node = this.parsePrimary(depth + 1)
    for (;;) {
      if (this.isPunct('.')) {
        this.next()
        const name = this.peek()
        if (name.kind !== 'identifier')
          this.fail(name, `expected a property name after ".", got ${show(name)}`)
        this.next()
        this.checkKey(name, name.text)
        node = {
          kind: 'member',
          object: node,
          property: { kind: 'literal', value: name.text, start: name.start },
          computed: false,
          start: node.start,
        }
      } else if (this.isPunct('[')) {
        const open = this.next()
        const index = this.parseOr(depth + 1)
        if (index.kind === 'literal' && typeof index.value === 'string') this.checkKey(open, index.value)
        this.expect(']', '"]" to close the index')
        node = { kind: 'member', object: node, property: index, computed: true, start: node.start }
      } else {
        return node
      }
      // Each access adds a level the evaluator recurses through.
      this.guard(++depth)
    }
  }

  private checkKey(at: Token, key: string): void {
    if (FORBIDDEN_KEYS.has(key)) this.fail(at, `property "${key}" is not accessible`)
  }

  private parsePrimary(depth: number): Node {
    this.guard(depth)
    const t = this.peek()
    if (t.kind === 'number') {
      this.next()
      return { kind: 'literal', value: t.number!, start: t.start }
    }
    if (t.kind === 'string') {
      this.next()
      return { kind: 'literal', value: t.text, start: t.start }
    }
    if (t.kind === 'identifier') {
      this.next()
      if (Object.hasOwn(KEYWORDS, t.text))
        return { kind: 'literal', value: KEYWORDS[t.text]!, start: t.start }
      if (this.isPunct('(')) return this.parseCall(t, depth)
      if (FORBIDDEN_KEYS.has(t.text)) this.fail(t, `name "${t.text}" is not accessible`)
      return { kind: 'identifier', name: t.text, start: t.start }
    }
    if (this.isPunct('(')) {
      this.next()
      const inner = this.parseOr(depth + 1)
      this.expect(')', '")" to close "("')
      return inner
    }
    this.fail(t, `expected a value, a name or "(", got ${show(t)}`)
  }

  private parseCall(name: Token, depth: number): Node {
    const spec = arity(name.text)
    if (!spec) this.fail(name, `unknown function "${name.text}"; available: ${FUNCTION_NAMES.join(', ')}`)
    this.next() // (
    const args: Node[] = []
    if (!this.isPunct(')')) {
      for (;;) {
        args.push(this.parseOr(depth + 1))
        if (!this.isPunct(',')) break
        this.next()
      }
    }
    this.expect(')', `"," or ")" in the call to ${name.text}()`)
    if (args.length < spec!.min || args.length > spec!.max) {
      const want = spec!.min === spec!.max ? `${spec!.min}` : `${spec!.min} to ${spec!.max}`
      this.fail(
        name,
        `${name.text}() takes ${want} argument${spec!.max === 1 ? '' : 's'}, got ${args.length}`,
      )
    }
    return { kind: 'call', callee: name.text, args, start: name.start }
  }
}
