import { ErrorCodes, PluginError } from '@stavily/sdk'
import { type FetchCall, testOutput } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

// The manifest leaves its hosts to the operator ("$granted"): this is the test grant.
const granted = {
  manifest: pkg,
  grants: { net: ['localhost', 'hooks.slack.com:443'], secrets: ['WEBHOOK_SECRET', 'WEBHOOK_URL'] },
}
const url = 'http://localhost:8099/hooks/ops'
const slackUrl = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET'
const input = {
  text: 'web restarted',
  title: 'demo-web recovered',
  status: 'succeeded',
  fields: { attempts: 1 },
}

/** A fake receiver that records what it got. */
function receiver(status = 200, body = 'ok') {
  const got: FetchCall[] = []
  return {
    got,
    fake: (req: FetchCall) => {
      got.push(req)
      return { status, body }
    },
  }
}

describe('webhook, json format', () => {
  it('POSTs the input as JSON with the idempotency key, and returns the status', async () => {
    const r = receiver(202)
    const { output } = await testOutput(plugin, {
      ...granted,
      config: { url, headers: { 'X-Source': 'stavily' } },
      input: { ...input, data: { run: { id: 'r1' } } },
      idempotencyKey: 'run-1:notify',
      fetch: { localhost: r.fake },
    })
    expect(output).toEqual({ status: 202, format: 'json' })
    const [req] = r.got
    expect(req).toMatchObject({ url, method: 'POST', timeoutMs: 10_000 })
    expect(req?.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'run-1:notify',
      'x-source': 'stavily',
    })
    expect(JSON.parse(req!.body!)).toEqual({
      ...input,
      data: { run: { id: 'r1' } },
      idempotencyKey: 'run-1:notify',
      sentAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
  })

  it('sends the WEBHOOK_SECRET in the configured header, with its prefix', async () => {
    const r = receiver()
    await testOutput(plugin, {
      ...granted,
      config: { url, secretHeader: 'Authorization', secretPrefix: 'Bearer ' },
      input,
      secrets: { WEBHOOK_SECRET: 'tok3n' },
      fetch: { localhost: r.fake },
    })
    expect(r.got[0]?.headers.authorization).toBe('Bearer tok3n')
  })
})

describe('webhook, slack format', () => {
  it('sends text and blocks: header, escaped mrkdwn, fields, status', async () => {
    const r = receiver()
    const { output } = await testOutput(plugin, {
      ...granted,
      config: { url: slackUrl, format: 'slack' },
      input: { ...input, text: 'restarted <web> & checked', link: 'http://localhost:8080/runs/1' },
      fetch: { 'hooks.slack.com': r.fake },
    })
    expect(output).toEqual({ status: 200, format: 'slack' })
    expect(JSON.parse(r.got[0]!.body!)).toEqual({
      text: 'demo-web recovered: restarted <web> & checked',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'demo-web recovered', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: 'restarted &lt;web&gt; &amp; checked' } },
        { type: 'section', fields: [{ type: 'mrkdwn', text: '*attempts*\n1' }] },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: ':white_check_mark: succeeded' },
            { type: 'mrkdwn', text: '<http://localhost:8080/runs/1|Open>' },
          ],
        },
      ],
    })
  })

  it("keeps within Slack's limits: long text split into sections, many fields split by ten", async () => {
    const r = receiver()
    const fields = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, i]))
    await testOutput(plugin, {
      ...granted,
      config: { url: slackUrl, format: 'slack' },
      input: { text: `${'a'.repeat(2999)}&b`, fields, title: 't'.repeat(200) },
      fetch: { 'hooks.slack.com': r.fake },
    })
    const { blocks } = JSON.parse(r.got[0]!.body!) as {
      blocks: { type: string; text?: { text: string }; fields?: unknown[] }[]
    }
    expect(blocks[0]?.text?.text).toHaveLength(150)
    expect(blocks.filter((b) => b.type === 'section' && b.text).map((b) => b.text!.text)).toEqual([
      'a'.repeat(2999),
      '&amp;b',
    ])
    expect(blocks.filter((b) => b.fields).map((b) => b.fields!.length)).toEqual([10, 2])
  })

  it('reads the URL from the WEBHOOK_URL secret when urlFromSecret is set', async () => {
    const r = receiver()
    await testOutput(plugin, {
      ...granted,
      config: { urlFromSecret: true, format: 'slack' },
      input,
      secrets: { WEBHOOK_URL: slackUrl },
      fetch: { 'hooks.slack.com': r.fake },
    })
    expect(r.got[0]?.url).toBe(slackUrl)
  })
})

describe('webhook failures', () => {
  it('fails for good on 4xx, quoting the answer', async () => {
    const run = testOutput(plugin, {
      ...granted,
      config: { url },
      input,
      fetch: { localhost: { status: 400, body: 'invalid_payload' } },
    })
    await expect(run).rejects.toMatchObject({
      code: 'WEBHOOK_REJECTED',
      retryable: false,
      message: 'webhook localhost:8099 answered HTTP 400: invalid_payload',
      data: { status: 400 },
    })
  })

  it('fails as retryable on 5xx, 429 and 408', async () => {
    for (const status of [500, 503, 429, 408]) {
      const run = testOutput(plugin, {
        ...granted,
        config: { url },
        input,
        fetch: { localhost: { status } },
      })
      await expect(run, String(status)).rejects.toMatchObject({
        code: 'WEBHOOK_UNAVAILABLE',
        retryable: true,
      })
    }
  })

  it('fails as retryable when the receiver cannot be reached, without showing the URL path', async () => {
    const run = testOutput(plugin, {
      ...granted,
      config: { url: slackUrl, format: 'slack' },
      input,
      fetch: {
        'hooks.slack.com': () => {
          throw new PluginError('STAVILY_ERR_SANDBOX_FETCH_TIMEOUT', `fetch ${slackUrl}: timed out`, {
            retryable: true,
          })
        },
      },
    })
    const error = (await run.catch((e: unknown) => e)) as PluginError
    expect(error).toMatchObject({ code: 'WEBHOOK_UNAVAILABLE', retryable: true })
    expect(error.message).toBe(
      'webhook hooks.slack.com unreachable: fetch https://hooks.slack.com: timed out',
    )
  })

  it('posts to any host the operator grants, and is denied another host and an ungranted secret', async () => {
    const r = receiver(200)
    await testOutput(plugin, {
      ...granted,
      grants: { net: ['chat.example.com:443'] },
      config: { url: 'https://chat.example.com/hook' },
      input,
      fetch: { 'chat.example.com': r.fake },
    })
    expect(r.got).toHaveLength(1)
    await expect(
      testOutput(plugin, {
        ...granted,
        config: { url: 'https://example.com/hook' },
        input,
        fetch: () => ({}),
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'net', value: 'example.com:443', reason: 'ungranted' },
    })
    await expect(
      testOutput(plugin, {
        ...granted,
        grants: { net: ['hooks.slack.com:443'] },
        config: { url },
        input,
        fetch: { localhost: {} },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'net', reason: 'ungranted' },
    })
    await expect(
      testOutput(plugin, {
        ...granted,
        grants: { net: ['localhost'] },
        config: { url, secretHeader: 'x-token' },
        input,
        fetch: { localhost: {} },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'secrets', reason: 'ungranted' },
    })
  })

  it('rejects bad config and input, naming the field', async () => {
    const configs: [Record<string, unknown>, string][] = [
      [{}, 'config.url'],
      [{ url: 'ftp://localhost/x' }, 'config.url'],
      [{ url, format: 'discord' }, 'config.format'],
      [{ url, secretPrefix: 'Bearer ' }, 'config.secretPrefix'],
      [{ url, secretHeader: 'bad header' }, 'config.secretHeader'],
      [{ url, urlFromSecret: true }, 'config.url'],
    ]
    for (const [config, field] of configs) {
      await expect(
        testOutput(plugin, {
          ...granted,
          config: config as never,
          input,
          secrets: { WEBHOOK_URL: url },
          fetch: { localhost: {} },
        }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(field) })
    }
    await expect(
      testOutput(plugin, {
        ...granted,
        config: { urlFromSecret: true },
        input,
        secrets: { WEBHOOK_URL: 'not a url' },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: expect.not.stringContaining('not a url'),
    })
    const inputs: [Record<string, unknown>, string][] = [
      [{}, 'input.text'],
      [{ text: '' }, 'input.text'],
      [{ text: 'x', fields: { a: { nested: true } } }, 'input.fields.a'],
      [{ text: 'x', link: 'javascript:alert(1)' }, 'input.link'],
    ]
    for (const [bad, field] of inputs) {
      await expect(
        testOutput(plugin, { ...granted, config: { url }, input: bad as never, fetch: { localhost: {} } }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_INPUT, message: expect.stringContaining(field) })
    }
    await expect(
      testOutput(plugin, {
        ...granted,
        config: { url, format: 'slack' },
        input: { text: 'x', data: 1 },
        fetch: { localhost: {} },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('input.data'),
    })
  })
})
