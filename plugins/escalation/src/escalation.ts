import type { JsonValue } from '@stavily/sdk'

/** What the workflow asked for, with every default filled in: the vendors' request builders read this. */
export interface Escalation {
  action: 'trigger' | 'acknowledge' | 'resolve'
  dedupKey: string
  summary: string
  severity: 'critical' | 'error' | 'warning' | 'info'
  source: string
  timestamp: string
  client: string
  component?: string
  group?: string
  class?: string
  customDetails?: Record<string, JsonValue>
  link?: string
  linkText: string
  tags?: string[]
  note?: string
}
