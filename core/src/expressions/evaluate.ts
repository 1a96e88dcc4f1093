import type { Expression, Node } from './ast.ts'
import { ExpressionError, type ExpressionErrorCode } from './errors.ts'
import { FunctionArgumentError, getFunction } from './functions.ts'
import { FORBIDDEN_KEYS } from './parser.ts'
import { deepEqual, describe, isPlainObject, truthy, UnprintableValueError } from './values.ts'

// Evaluates a parsed expression against a context of named roots (`trigger`, `steps`, ...).
// It is an interpreter over the AST: no eval, no Function, no property lookup that could
// leave the data (own properties of plain objects and array indexes only).

/** The roots an expression may name, e.g. `{ trigger, event, steps, run }`. */
export type ExpressionContext = Readonly<Record<string, unknown>>

const SECRETS_HINT =
  'secrets are not available in expressions: declare the secret in the plugin manifest, grant it, and read it in the plugin with ctx.secrets.get()'

export function evaluate(expr: Expression, context: ExpressionContext): unknown {
  return new Evaluator(expr.source, context).eval(expr.ast)
}

/** The text of a path as an operator would write it: `steps.restart.output['x'][0]`. */
export function pathText(node: Node): string {
  switch (node.kind) {
    case 'identifier':
      return node.name
    case 'literal':
      return JSON.stringify(node.value)
    case 'call':
      return `${node.callee}(...)`
    case 'member': {
      const base = pathText(node.object)
      if (!node.computed && node.property.kind === 'literal') return `${base}.${String(node.property.value)}`
      return `${base}[${pathText(node.property)}]`
    }
    default:
      return '(...)'
  }
}

class Evaluator {
  constructor(
    private readonly source: string,
    private readonly context: ExpressionContext,
  ) {}

  private fail(code: ExpressionErrorCode, node: Node, detail: string, data?: Record<string, unknown>): never {
    throw new ExpressionError(code, this.source, node.start + 1, detail, data)
  }

  eval(node: Node): unknown {
    switch (node.kind) {
      case 'literal':
        return node.value
      case 'identifier':
        return this.root(node)
      case 'member':
        return this.member(node)
      case 'unary':
        return !truthy(this.eval(node.operand))
      case 'logical': {
        const left = truthy(this.eval(node.left))
        if (node.operator === '&&') return left && truthy(this.eval(node.right))
        return left || truthy(this.eval(node.right))
      }
      case 'binary':
        return this.binary(node)
      case 'call':
        return this.call(node)
    }
  }

  private root(node: Extract<Node, { kind: 'identifier' }>): unknown {
    if (node.name === 'secrets') this.fail('STAVILY_ERR_EXPRESSION_REFERENCE', node, SECRETS_HINT)
    if (!Object.hasOwn(this.context, node.name)) {
      const names = Object.keys(this.context).sort().join(', ')
      this.fail(
        'STAVILY_ERR_EXPRESSION_UNKNOWN_PATH',
        node,
        `unknown name "${node.name}"; available: ${names}`,
        {
          path: node.name,
          available: Object.keys(this.context),
        },
      )
    }
    return this.context[node.name] ?? null
  }

  private member(node: Extract<Node, { kind: 'member' }>): unknown {
    const base = this.eval(node.object)
    const key = this.eval(node.property)
    const basePath = pathText(node.object)
    const path = pathText(node)
    if (base === null || base === undefined) {
      this.fail(
        'STAVILY_ERR_EXPRESSION_UNKNOWN_PATH',
        node,
        `${basePath} is null, so ${path} does not exist`,
        {
          path,
          missing: key,
        },
      )
    }
    if (Array.isArray(base)) {
      if (typeof key !== 'number' || !Number.isInteger(key) || key < 0) {
        this.fail(
          'STAVILY_ERR_EXPRESSION_TYPE',
          node.property,
          `${basePath} is an array: index it with a whole number ≥ 0 (length() gives its length), got ${describe(key)}`,
        )
      }
      if (key >= base.length) {
        this.fail(
          'STAVILY_ERR_EXPRESSION_UNKNOWN_PATH',
          node.property,
          `${path} does not exist: ${basePath} has ${base.length} item${base.length === 1 ? '' : 's'}`,
          { path, missing: key, length: base.length },
        )
      }
      return base[key] ?? null
    }
    if (!isPlainObject(base)) {
      this.fail(
        'STAVILY_ERR_EXPRESSION_TYPE',
        node,
        `cannot read ${describeKey(key)} of ${basePath}: it is a ${describe(base)}`,
      )
    }
    if (typeof key !== 'string') {
      this.fail(
        'STAVILY_ERR_EXPRESSION_TYPE',
        node.property,
        `${basePath} is an object: its keys are strings, got ${describe(key)}`,
      )
    }
    if (FORBIDDEN_KEYS.has(key))
      this.fail('STAVILY_ERR_EXPRESSION_REFERENCE', node.property, `property "${key}" is not accessible`)
    if (!Object.hasOwn(base, key)) {
      const keys = Object.keys(base)
      const shown = keys.length === 0 ? 'it has no keys' : `keys there: ${listKeys(keys)}`
      this.fail(
        'STAVILY_ERR_EXPRESSION_UNKNOWN_PATH',
        node.property,
        `${basePath} has no key "${key}"; ${shown}`,
        {
          path,
          missing: key,
          available: keys.slice(0, 50),
        },
      )
    }
    return base[key] ?? null
  }

  private binary(node: Extract<Node, { kind: 'binary' }>): boolean {
    const l = this.eval(node.left)
    const r = this.eval(node.right)
    switch (node.operator) {
      case '==':
        return deepEqual(l, r)
      case '!=':
        return !deepEqual(l, r)
    }
    const comparable =
      (typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string')
    if (!comparable) {
      const hint = typeof l === 'string' || typeof r === 'string' ? '; convert text with number(...)' : ''
      this.fail(
        'STAVILY_ERR_EXPRESSION_TYPE',
        node,
        `"${node.operator}" compares two numbers or two strings, got ${describe(l)} and ${describe(r)}${hint}`,
      )
    }
    const a = l as number | string
    const b = r as number | string
    switch (node.operator) {
      case '<':
        return a < b
      case '<=':
        return a <= b
      case '>':
        return a > b
      default:
        return a >= b
    }
  }

  private call(node: Extract<Node, { kind: 'call' }>): unknown {
    if (node.callee === 'default') {
      // default(x, fallback): x when it exists and is not null. A missing key is the usual
      // reason to reach for it, so an unknown path counts as missing, not as an error.
      let v: unknown
      try {
        v = this.eval(node.args[0]!)
      } catch (err) {
        if (!(err instanceof ExpressionError) || err.code !== 'STAVILY_ERR_EXPRESSION_UNKNOWN_PATH') throw err
        v = null
      }
      return v === null || v === undefined ? this.eval(node.args[1]!) : v
    }
    const fn = getFunction(node.callee)
    if (!fn) this.fail('STAVILY_ERR_EXPRESSION_SYNTAX', node, `unknown function "${node.callee}"`)
    const args = node.args.map((a) => this.eval(a))
    try {
      return fn!.call(args)
    } catch (err) {
      if (err instanceof FunctionArgumentError) this.fail('STAVILY_ERR_EXPRESSION_TYPE', node, err.message)
      if (err instanceof UnprintableValueError)
        this.fail('STAVILY_ERR_EXPRESSION_LIMIT', node, `${node.callee}(): ${err.message}`)
      throw err
    }
  }
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? `"${key}"` : describe(key)
}

function listKeys(keys: string[]): string {
  const shown = keys.slice(0, 20).join(', ')
  return keys.length > 20 ? `${shown}, ... (${keys.length} in all)` : shown
}
