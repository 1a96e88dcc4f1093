// Messages for the chat tools that do not take Slack's Block Kit:
// - Mattermost and Rocket.Chat incoming webhooks: Markdown `text` plus Slack's older
//   `attachments` (colour bar, title, fields), which both render the same way.
// - Microsoft Teams (a Workflows "post to a channel when a webhook request is received"
//   URL, or an Office 365 connector): a message carrying one Adaptive Card.
// Text is the operator's Markdown and is sent as it is; only the sizes are kept within what
// the receivers accept (Teams refuses a message over about 28 KB).
import type { Message } from './slack.ts'

const LIMITS = {
  /** Mattermost's post limit is 16383 characters; Rocket.Chat's default is 5000. */
  chatText: 5000,
  fieldValue: 2000,
  fields: 30,
  /** Teams refuses a message over ~28 KB; leave room for the card's structure. */
  teamsText: 20_000,
  teamsFacts: 30,
} as const

const COLOURS: Record<string, string> = {
  succeeded: '#2eb67d',
  success: '#2eb67d',
  failed: '#e01e5a',
  failure: '#e01e5a',
  error: '#e01e5a',
}
const NEUTRAL = '#439fe0'
const TEAMS_COLOURS: Record<string, string> = {
  succeeded: 'Good',
  success: 'Good',
  failed: 'Attention',
  failure: 'Attention',
  error: 'Attention',
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function fieldText(value: string | number | boolean | null): string {
  return value === null ? '—' : String(value)
}

/** Mattermost / Rocket.Chat: `{ text, attachments }`. */
export function mattermostPayload(message: Message): {
  text: string
  attachments: Record<string, unknown>[]
} {
  const heading = message.title === undefined ? '' : `#### ${message.title}\n`
  const fields = Object.entries(message.fields ?? {})
    .slice(0, LIMITS.fields)
    .map(([title, value]) => ({ short: true, title, value: cut(fieldText(value), LIMITS.fieldValue) }))
  const attachment: Record<string, unknown> = {
    fallback: cut(message.title === undefined ? message.text : `${message.title}: ${message.text}`, 300),
    color: COLOURS[message.status?.toLowerCase() ?? ''] ?? NEUTRAL,
    ...(message.status !== undefined ? { footer: message.status } : {}),
    ...(fields.length > 0 ? { fields } : {}),
    ...(message.link !== undefined ? { title: 'Open', title_link: message.link } : {}),
  }
  const hasDetail = fields.length > 0 || message.status !== undefined || message.link !== undefined
  return {
    text: cut(`${heading}${message.text}`, LIMITS.chatText),
    attachments: hasDetail ? [attachment] : [],
  }
}

/** Microsoft Teams: a message with one Adaptive Card (schema 1.4, what Teams renders). */
export function teamsPayload(message: Message): Record<string, unknown> {
  const body: Record<string, unknown>[] = []
  if (message.title !== undefined) {
    body.push({
      type: 'TextBlock',
      text: cut(message.title, 300),
      weight: 'Bolder',
      size: 'Medium',
      wrap: true,
    })
  }
  body.push({ type: 'TextBlock', text: cut(message.text, LIMITS.teamsText), wrap: true })
  const facts = Object.entries(message.fields ?? {})
    .slice(0, LIMITS.teamsFacts)
    .map(([title, value]) => ({ title, value: cut(fieldText(value), LIMITS.fieldValue) }))
  if (message.status !== undefined) facts.unshift({ title: 'status', value: message.status })
  if (facts.length > 0) body.push({ type: 'FactSet', facts })
  // Adaptive Cards name colours instead of taking them: the first line shows the status.
  const colour = TEAMS_COLOURS[message.status?.toLowerCase() ?? '']
  if (colour !== undefined) body[0] = { ...body[0], color: colour }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(message.link !== undefined
            ? { actions: [{ type: 'Action.OpenUrl', title: 'Open', url: message.link }] }
            : {}),
        },
      },
    ],
  }
}
