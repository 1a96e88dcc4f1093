// Builds a Slack-compatible message (incoming webhooks, and the many chat tools that accept
// the same payload): a plain `text` fallback for notifications, and Block Kit blocks for
// display. Slack's limits: a header 150 characters, a section 3000, a field 2000, at most
// 10 fields per section and 50 blocks per message; text past them is cut, never rejected.
import type { JsonValue } from '@stavily/sdk'

export interface Message {
  text: string
  title?: string
  status?: string
  fields?: Record<string, string | number | boolean | null>
  link?: string
}

const LIMITS = {
  header: 150,
  section: 3000,
  field: 2000,
  fieldsPerSection: 10,
  blocks: 50,
  text: 4000,
} as const
const STATUS_EMOJI: Record<string, string> = {
  succeeded: ':white_check_mark:',
  success: ':white_check_mark:',
  failed: ':x:',
  failure: ':x:',
  error: ':x:',
}

type Block = Record<string, JsonValue>

export function slackPayload(message: Message): { text: string; blocks: Block[] } {
  const blocks: Block[] = []
  if (message.title !== undefined) {
    blocks.push({
      type: 'header',
      text: { type: 'plain_text', text: cut(message.title, LIMITS.header), emoji: true },
    })
  }
  for (const chunk of escapedChunks(message.text, LIMITS.section)) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } })
  }
  const fields = Object.entries(message.fields ?? {}).map(([key, value]) => ({
    type: 'mrkdwn',
    text: cut(`*${escapeMrkdwn(key)}*\n${escapeMrkdwn(value === null ? '—' : String(value))}`, LIMITS.field),
  }))
  for (let i = 0; i < fields.length; i += LIMITS.fieldsPerSection) {
    blocks.push({ type: 'section', fields: fields.slice(i, i + LIMITS.fieldsPerSection) })
  }
  const context: string[] = []
  if (message.status !== undefined) {
    context.push(
      `${STATUS_EMOJI[message.status.toLowerCase()] ?? ':information_source:'} ${escapeMrkdwn(message.status)}`,
    )
  }
  if (message.link !== undefined) context.push(`<${linkTarget(message.link)}|Open>`)
  if (context.length > 0) {
    blocks.push({ type: 'context', elements: context.map((text) => ({ type: 'mrkdwn', text })) })
  }
  const fallback = message.title === undefined ? message.text : `${message.title}: ${message.text}`
  return { text: cut(fallback, LIMITS.text), blocks: blocks.slice(0, LIMITS.blocks) }
}

/** Slack's mrkdwn gives "&", "<" and ">" meaning; everything else is literal. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Escaped text in pieces of at most `max` characters, never splitting an escape. */
function escapedChunks(text: string, max: number): string[] {
  const chunks: string[] = []
  let current = ''
  for (const char of text) {
    const piece = escapeMrkdwn(char)
    if (current.length + piece.length > max) {
      chunks.push(current)
      current = ''
    }
    current += piece
  }
  if (current !== '' || chunks.length === 0) chunks.push(current === '' ? ' ' : current)
  return chunks
}

/** In `<url|label>`, a "|" or ">" in the URL would end it early: percent-encode them. */
function linkTarget(url: string): string {
  return url.replace(/\|/g, '%7C').replace(/>/g, '%3E').replace(/</g, '%3C')
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
