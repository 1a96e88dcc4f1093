// The expression AST. `start` is the 0-based offset of the node in the expression source,
// kept so evaluation errors can point at the column of the part that failed.

export type Literal = string | number | boolean | null

export type Node =
  | { kind: 'literal'; value: Literal; start: number }
  | { kind: 'identifier'; name: string; start: number }
  /** `object.name` (dot) or `object[index]` (computed). */
  | { kind: 'member'; object: Node; property: Node; computed: boolean; start: number }
  | { kind: 'call'; callee: string; args: Node[]; start: number }
  | { kind: 'unary'; operator: '!'; operand: Node; start: number }
  | { kind: 'binary'; operator: BinaryOperator; left: Node; right: Node; start: number }
  | { kind: 'logical'; operator: '&&' | '||'; left: Node; right: Node; start: number }

export type BinaryOperator = '==' | '!=' | '<' | '<=' | '>' | '>='

/** A parsed expression: its AST and the source it came from (errors quote it). */
export interface Expression {
  source: string
  ast: Node
}
