import type { Expression, Node } from './ast.ts'
import { ExpressionError } from './errors.ts'
import { pathText } from './evaluate.ts'

// Static validation of what an expression names, run when a workflow is saved: a reference
// to a step that does not exist or runs later would otherwise fail only when an event
// arrives, hours later, in the middle of an incident.

export interface ReferenceScope {
  /** The root names this place may use, e.g. `trigger`, `event`, `steps`, `run`. */
  roots: readonly string[]
  /** Step ids that finish before this expression is evaluated: the ones `steps.<id>` may name. */
  earlierSteps: readonly string[]
  /** Every step id of the workflow, to tell a later step from a misspelt one. */
  allSteps: readonly string[]
}

/** What a step result exposes: `steps.<id>.status`, `.output`, `.error`. */
export const STEP_FIELDS: readonly string[] = ['status', 'output', 'error']

export function checkReferences(expr: Expression, scope: ReferenceScope): ExpressionError[] {
  const errors: ExpressionError[] = []
  const fail = (node: Node, detail: string) =>
    errors.push(new ExpressionError('STAVILY_ERR_EXPRESSION_REFERENCE', expr.source, node.start + 1, detail))

  const visit = (node: Node): void => {
    switch (node.kind) {
      case 'identifier':
        if (node.name === 'secrets') {
          fail(
            node,
            'secrets are not available in expressions: the plugin reads a declared, granted secret with ctx.secrets.get()',
          )
        } else if (!scope.roots.includes(node.name)) {
          fail(node, `unknown name "${node.name}"; available here: ${scope.roots.join(', ')}`)
        }
        return
      case 'member':
        if (isRoot(node.object, 'steps') && scope.roots.includes('steps')) checkStep(node, undefined)
        else if (isStepMember(node.object) && scope.roots.includes('steps')) checkStep(node.object, node)
        else visit(node.object)
        visit(node.property)
        return
      case 'call':
        for (const a of node.args) visit(a)
        return
      case 'unary':
        visit(node.operand)
        return
      case 'binary':
      case 'logical':
        visit(node.left)
        visit(node.right)
        return
      case 'literal':
        return
    }
  }

  // `steps.<id>` (member) and, when present, `steps.<id>.<field>` (field).
  const checkStep = (
    member: Extract<Node, { kind: 'member' }>,
    field: Extract<Node, { kind: 'member' }> | undefined,
  ) => {
    const id = member.property
    if (id.kind !== 'literal' || typeof id.value !== 'string') {
      fail(id, 'steps must be followed by a step id written out (steps.restart), not a computed index')
      visit(id)
      return
    }
    if (!scope.earlierSteps.includes(id.value)) {
      if (scope.allSteps.includes(id.value)) {
        fail(id, `steps.${id.value} runs later: a step may read only steps that finish before it`)
      } else {
        const before = scope.earlierSteps.length > 0 ? scope.earlierSteps.join(', ') : 'none'
        fail(id, `no step "${id.value}"; steps before this one: ${before}`)
      }
    }
    if (field) {
      const f = field.property
      if (f.kind === 'literal' && typeof f.value === 'string' && !STEP_FIELDS.includes(f.value)) {
        fail(f, `${pathText(member)} has no field "${f.value}"; a step has: ${STEP_FIELDS.join(', ')}`)
      }
    }
  }

  visit(expr.ast)
  return errors
}

function isRoot(node: Node, name: string): boolean {
  return node.kind === 'identifier' && node.name === name
}

function isStepMember(node: Node): node is Extract<Node, { kind: 'member' }> {
  return node.kind === 'member' && isRoot(node.object, 'steps')
}
