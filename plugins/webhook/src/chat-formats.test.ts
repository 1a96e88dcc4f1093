import { testOutput } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

// Mattermost / Rocket.Chat and Microsoft Teams messages, as each receiver documents them.

const url = 'http://localhost:8065/hooks/abc'
const granted = { manifest: pkg, grants: { net: ['localhost'] } }
const message = {
  title: 'web restarted',
  text: 'restarted **web** after 2 attempts',
  status: 'failed',
  fields: { attempts: 2, host: 'web-1', note: null },
  link: 'http://localhost:8080/runs/1',
}

type Format = 'mattermost' | 'teams'
type Message = Omit<typeof message, 'fields'> & { fields?: Record<string, string | number | boolean | null> }

async function sent(format: Format, input: Partial<Message> & { text: string }) {
  const bodies: unknown[] = []
  const { output } = await testOutput(plugin, {
    ...granted,
    config: { url, format },
    input,
    fetch: {
      localhost: (req) => {
        bodies.push(JSON.parse(req.body!))
        return { status: 200, body: 'ok' }
      },
    },
  })
  expect(output).toEqual({ status: 200, format })
  return bodies[0]
}

describe('webhook, mattermost format (Mattermost and Rocket.Chat)', () => {
  it('sends Markdown text with a heading and one attachment with colour, fields and link', async () => {
    expect(await sent('mattermost', message)).toEqual({
      text: '#### web restarted\nrestarted **web** after 2 attempts',
      attachments: [
        {
          fallback: 'web restarted: restarted **web** after 2 attempts',
          color: '#e01e5a',
          footer: 'failed',
          fields: [
            { short: true, title: 'attempts', value: '2' },
            { short: true, title: 'host', value: 'web-1' },
            { short: true, title: 'note', value: '—' },
          ],
          title: 'Open',
          title_link: 'http://localhost:8080/runs/1',
        },
      ],
    })
  })

  it('sends only the text when there is nothing else, cut to what Rocket.Chat accepts', async () => {
    const body = (await sent('mattermost', { text: 'x'.repeat(6000) })) as { text: string; attachments: [] }
    expect(body.attachments).toEqual([])
    expect(body.text).toHaveLength(5000)
    expect(body.text.endsWith('…')).toBe(true)
  })
})

describe('webhook, teams format (Microsoft Teams)', () => {
  it('sends a message with one Adaptive Card: title, text, facts and an Open action', async () => {
    expect(await sent('teams', message)).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [
              {
                type: 'TextBlock',
                text: 'web restarted',
                weight: 'Bolder',
                size: 'Medium',
                wrap: true,
                color: 'Attention',
              },
              { type: 'TextBlock', text: 'restarted **web** after 2 attempts', wrap: true },
              {
                type: 'FactSet',
                facts: [
                  { title: 'status', value: 'failed' },
                  { title: 'attempts', value: '2' },
                  { title: 'host', value: 'web-1' },
                  { title: 'note', value: '—' },
                ],
              },
            ],
            actions: [{ type: 'Action.OpenUrl', title: 'Open', url: 'http://localhost:8080/runs/1' }],
          },
        },
      ],
    })
  })

  it('refuses raw data, which a card has no place for, naming the field', async () => {
    await expect(
      testOutput(plugin, {
        ...granted,
        config: { url, format: 'teams' },
        input: { text: 'x', data: { a: 1 } },
      }),
    ).rejects.toMatchObject({
      code: 'STAVILY_ERR_INVALID_INPUT',
      message: expect.stringMatching(/^input\.data: a teams message/),
    })
  })
})
