// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow template syntax, not a JS template literal
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from 'yaml'
import type { PathSegment, PointAt, WorkflowIssue } from './issues.ts'
import { WORKFLOW_POLICY } from './policy.ts'

// Reads a workflow's source text (YAML, or JSON, which the YAML 1.2 parser reads as well)
// and keeps the node tree, so any later problem can be reported with its line and column.
// YAML 1.2's core schema is used: `on: yes` stays a string and `on` stays a key, unlike YAML 1.1.

export interface ParsedSource {
  value: unknown
  /** Line and column (1-based) of the node at `path`, or of the nearest enclosing node. */
  locate(path: readonly PathSegment[], pointAt?: PointAt): { line: number; column: number } | undefined
}

export type SourceResult = { ok: true; source: ParsedSource } | { ok: false; issues: WorkflowIssue[] }

export function parseSource(text: string): SourceResult {
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > WORKFLOW_POLICY.maxDocumentBytes) {
    return {
      ok: false,
      issues: [
        {
          path: '',
          message: `document is ${bytes} bytes; at most ${WORKFLOW_POLICY.maxDocumentBytes} are accepted`,
        },
      ],
    }
  }
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, version: '1.2' })
  const pos = (offset: number) => {
    const p = lineCounter.linePos(offset)
    return { line: p.line, column: p.col }
  }
  if (docs.length === 0)
    return { ok: false, issues: [{ path: '', message: 'document is empty: expected a workflow' }] }
  if (docs.length > 1) {
    const second = docs[1]!.range[0]
    return {
      ok: false,
      issues: [
        { path: '', message: 'expected one document, got several (remove the "---")', ...pos(second) },
      ],
    }
  }
  const doc = docs[0]!
  // The first syntax error is the cause; the ones after it are usually its echo (one
  // unbalanced brace yields dozens), so only the first is reported.
  const [syntax] = [...doc.errors, ...doc.warnings]
  if (syntax) {
    const at = pos(syntax.pos[0])
    const line = text.split('\n')[at.line - 1] ?? ''
    // `key: { a: ${{ x }} }` is the classic trap: in flow style, the braces of a template end the mapping.
    const hint = line.includes('${{') ? '; a value holding ${{ }} inside { } or [ ] must be quoted' : ''
    return {
      ok: false,
      issues: [{ path: '', message: `not valid YAML or JSON: ${firstLine(syntax.message)}${hint}`, ...at }],
    }
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: WORKFLOW_POLICY.maxAliasCount })
  } catch (err) {
    return {
      ok: false,
      issues: [{ path: '', message: `cannot read the document: ${firstLine((err as Error).message)}` }],
    }
  }
  if (value === null || value === undefined) {
    return { ok: false, issues: [{ path: '', message: 'document is empty: expected a workflow' }] }
  }
  return {
    ok: true,
    source: {
      value,
      locate(path, pointAt = 'value') {
        let node: unknown = doc.contents
        let keyNode: unknown
        let lastFound = node
        const steps = pointAt === 'parent' ? path.slice(0, -1) : path
        for (const [i, seg] of steps.entries()) {
          keyNode = undefined
          let next: unknown
          if (isMap(node)) {
            const pair = node.items.find(
              (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
            )
            next = pair?.value ?? undefined
            keyNode = pair?.key
            // A key with an empty value (`retry:`) has no value node: point at the key.
            if (pair && next === null) next = pair.key
          } else if (isSeq(node) && typeof seg === 'number') {
            next = node.items[seg]
          }
          if (next === undefined || next === null) break
          node = next
          lastFound = node
          if (i === steps.length - 1 && pointAt === 'key' && keyNode) lastFound = keyNode
        }
        const range = (lastFound as Node | undefined)?.range
        return range ? pos(range[0]) : undefined
      },
    },
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
}
