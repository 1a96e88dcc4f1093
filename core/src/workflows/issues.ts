// One problem found in a workflow document: the field path, what was wrong, and where in
// the source it is. All checks report these; the document is refused with all of them.

export type PathSegment = string | number

export interface WorkflowIssue {
  /** `actions[1].retry.limit`; empty for the document itself. */
  path: string
  message: string
  line?: number
  column?: number
}

/** How an issue is found in the source: its value, its key (unknown fields) or the mapping holding it (missing fields). */
export type PointAt = 'value' | 'key' | 'parent'

export interface RawIssue {
  path: PathSegment[]
  message: string
  pointAt?: PointAt
}

export function formatPath(path: readonly PathSegment[]): string {
  let out = ''
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg
    else out += `[${JSON.stringify(seg)}]`
  }
  return out
}

/** `actions[1].retry.limit: expected ..., got "three" (line 14, column 16)` */
export function formatIssue(issue: WorkflowIssue): string {
  const where = issue.line === undefined ? '' : ` (line ${issue.line}, column ${issue.column})`
  return `${issue.path ? `${issue.path}: ` : ''}${issue.message}${where}`
}

/** The value as a message shows it after "got". */
export function shown(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  return String(value)
}
