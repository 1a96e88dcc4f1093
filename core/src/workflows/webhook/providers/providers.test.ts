import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { isStavilyError } from '../../../errors.ts'
import { authenticateProvider } from './index.ts'

// Each sender's credential, checked the way the sender documents it, and the events read
// from its body. (Over HTTP, on both backends: core/test/api/webhook-providers.test.ts.)

const body = (v: unknown) => Buffer.from(JSON.stringify(v))
const hmacHex = (secret: string, b: Buffer) => createHmac('sha256', secret).update(b).digest('hex')

describe('GitHub', () => {
  it("verifies GitHub's documented example delivery (X-Hub-Signature-256)", () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    const check = authenticateProvider('github', {
      headers: {
        'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
      },
      body: Buffer.from('Hello, World!'),
      secret: "It's a Secret to Everybody",
    })
    expect(check.ok).toBe(true)
  })

  it('refuses a signature made with another secret, a missing prefix, or no secret set', () => {
    const b = Buffer.from('{}')
    const sig = hmacHex('right', b)
    const as = (header: string, secret: string | undefined) =>
      authenticateProvider('github', { headers: { 'x-hub-signature-256': header }, body: b, secret }).ok
    expect(as(`sha256=${sig}`, 'right')).toBe(true)
    expect(as(`sha256=${hmacHex('wrong', b)}`, 'right')).toBe(false)
    expect(as(sig, 'right')).toBe(false)
    expect(as(`sha256=${sig}`, undefined)).toBe(false)
  })

  it('maps a push to one event: repository, branch, before/after, commits with authors and messages', () => {
    const payload = {
      ref: 'refs/heads/main',
      before: 'a'.repeat(40),
      after: 'b'.repeat(40),
      repository: { full_name: 'acme/web', clone_url: 'https://github.com/acme/web.git' },
      pusher: { name: 'ada', email: 'ada@example.com' },
      commits: [
        {
          id: 'b'.repeat(40),
          message: 'Fix the health check',
          timestamp: '2026-12-07T09:00:00Z',
          url: 'https://github.com/acme/web/commit/bbb',
          author: { name: 'Ada', email: 'ada@example.com', username: 'ada' },
        },
      ],
    }
    const b = body(payload)
    const check = authenticateProvider('github', {
      headers: { 'x-hub-signature-256': `sha256=${hmacHex('s', b)}`, 'x-github-event': 'push' },
      body: b,
      secret: 's',
    })
    if (!check.ok) throw new Error(check.message)
    const [event, ...rest] = check.provider.events(
      { headers: { 'x-github-event': 'push' }, body: b, secret: 's' },
      payload,
    )
    expect(rest).toEqual([])
    expect(event).toMatchObject({
      source: 'github',
      type: 'push',
      dedupeKey: `push:acme/web:refs/heads/main:${'a'.repeat(40)}:${'b'.repeat(40)}`,
      data: {
        repository: 'acme/web',
        branch: 'main',
        tag: null,
        deleted: false,
        pusher: { name: 'ada', email: 'ada@example.com' },
        commits: [{ message: 'Fix the health check', author: { name: 'Ada', email: 'ada@example.com' } }],
      },
    })
  })

  it('passes other events on as sent, typed github.<event>, keyed by the body (not the unsigned delivery id)', () => {
    const payload = { zen: 'Keep it simple.' }
    const b = body(payload)
    const check = authenticateProvider('github', {
      headers: { 'x-hub-signature-256': `sha256=${hmacHex('s', b)}` },
      body: b,
      secret: 's',
    })
    if (!check.ok) throw new Error(check.message)
    const [event] = check.provider.events(
      { headers: { 'x-github-event': 'ping', 'x-github-delivery': 'd-1' }, body: b, secret: 's' },
      payload,
    )
    expect(event).toMatchObject({ type: 'github.ping', data: payload })
    // The same signed body re-sent under another delivery id is the same event.
    const [again] = check.provider.events(
      { headers: { 'x-github-event': 'ping', 'x-github-delivery': 'd-2' }, body: b, secret: 's' },
      payload,
    )
    expect(again?.dedupeKey).toBe(event?.dedupeKey)
  })

  it('a push body missing a field is refused with the field named', () => {
    const check = authenticateProvider('github', {
      headers: { 'x-hub-signature-256': `sha256=${hmacHex('s', Buffer.from('{}'))}` },
      body: Buffer.from('{}'),
      secret: 's',
    })
    if (!check.ok) throw new Error(check.message)
    try {
      check.provider.events(
        { headers: { 'x-github-event': 'push' }, body: Buffer.from('{}'), secret: 's' },
        {},
      )
      expect.unreachable()
    } catch (err) {
      expect(isStavilyError(err) && err.code).toBe('STAVILY_ERR_MALFORMED_BODY')
      expect((err as Error).message).toBe('body.repository: expected an object')
    }
  })
})

describe('Gitea and Forgejo', () => {
  it('verifies X-Gitea-Signature (hex HMAC of the body) and X-Forgejo-Signature, even beside GitHub’s header', () => {
    const b = Buffer.from('{"ref":"x"}')
    const sig = hmacHex('k', b)
    expect(
      authenticateProvider('gitea', { headers: { 'x-gitea-signature': sig }, body: b, secret: 'k' }).ok,
    ).toBe(true)
    expect(
      authenticateProvider('gitea', { headers: { 'x-forgejo-signature': sig }, body: b, secret: 'k' }).ok,
    ).toBe(true)
    expect(
      authenticateProvider('gitea', {
        headers: { 'x-gitea-signature': sig, 'x-hub-signature-256': `sha256=${sig}` },
        body: b,
        secret: 'k',
      }).ok,
    ).toBe(true)
    expect(
      authenticateProvider('gitea', {
        headers: { 'x-gitea-signature': hmacHex('x', b) },
        body: b,
        secret: 'k',
      }).ok,
    ).toBe(false)
  })
})

describe('GitLab', () => {
  it('accepts X-Gitlab-Token equal to the secret and maps a push hook', () => {
    const payload = {
      object_kind: 'push',
      ref: 'refs/heads/release',
      before: '1'.repeat(40),
      after: '2'.repeat(40),
      user_name: 'Grace',
      user_email: 'grace@example.com',
      project: { path_with_namespace: 'ops/api', git_http_url: 'https://gitlab.example.com/ops/api.git' },
      commits: [
        { id: '2'.repeat(40), message: 'Bump', author: { name: 'Grace', email: 'grace@example.com' } },
      ],
    }
    const req = { headers: { 'x-gitlab-token': 'tok' }, body: body(payload), secret: 'tok' }
    const check = authenticateProvider('gitlab', req)
    if (!check.ok) throw new Error(check.message)
    expect(check.provider.events(req, payload)[0]).toMatchObject({
      source: 'gitlab',
      type: 'push',
      data: {
        repository: 'ops/api',
        branch: 'release',
        pusher: { name: 'Grace' },
        commits: [{ message: 'Bump' }],
      },
    })
    expect(authenticateProvider('gitlab', { ...req, headers: { 'x-gitlab-token': 'tok2' } }).ok).toBe(false)
  })
})

describe('Alertmanager', () => {
  const group = (status: string) => ({
    version: '4',
    status,
    receiver: 'stavily',
    groupKey: '{}:{alertname="Down"}',
    alerts: [
      {
        status,
        labels: { alertname: 'Down', service: 'web' },
        annotations: { summary: 'web is down' },
        startsAt: '2026-12-07T09:00:00Z',
        endsAt: status === 'resolved' ? '2026-12-07T09:05:00Z' : '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus/graph',
        fingerprint: 'f1',
      },
      {
        status,
        labels: { alertname: 'Down', service: 'api' },
        annotations: {},
        startsAt: '2026-12-07T09:00:00Z',
        fingerprint: 'f2',
      },
    ],
  })

  it('accepts the secret as a bearer token or a basic-auth password, and nothing else', () => {
    const b = body(group('firing'))
    const with_ = (authorization: string) =>
      authenticateProvider('alertmanager', { headers: { authorization }, body: b, secret: 'am-key' }).ok
    expect(with_('Bearer am-key')).toBe(true)
    expect(with_(`Basic ${Buffer.from('alertmanager:am-key').toString('base64')}`)).toBe(true)
    expect(with_('Bearer am-key2')).toBe(false)
    expect(with_(`Basic ${Buffer.from('am-key').toString('base64')}`)).toBe(false)
    expect(with_('Token am-key')).toBe(false)
  })

  it('one event per alert with labels, annotations, status and the fingerprint in its dedupe key', () => {
    const req = { headers: { authorization: 'Bearer k' }, body: Buffer.from('{}'), secret: 'k' }
    const check = authenticateProvider('alertmanager', req)
    if (!check.ok) throw new Error(check.message)
    const firing = check.provider.events(req, group('firing'))
    expect(firing.map((e) => e.data)).toMatchObject([
      {
        status: 'firing',
        labels: { service: 'web' },
        annotations: { summary: 'web is down' },
        fingerprint: 'f1',
      },
      { status: 'firing', labels: { service: 'api' }, fingerprint: 'f2' },
    ])
    const resolved = check.provider.events(req, group('resolved'))
    expect(new Set([...firing, ...resolved].map((e) => e.dedupeKey)).size).toBe(4)
    expect(firing[0]?.dedupeKey).toBe('alert:f1:firing:2026-12-07T09:00:00Z')
  })
})

describe('a request for no such hook, or for a hook of another provider', () => {
  it('fails like a wrong credential, with the same message', () => {
    const b = Buffer.from('{}')
    const sig = `sha256=${hmacHex('s', b)}`
    const none = authenticateProvider(undefined, {
      headers: { 'x-hub-signature-256': sig },
      body: b,
      secret: undefined,
    })
    const other = authenticateProvider('gitlab', {
      headers: { 'x-hub-signature-256': sig },
      body: b,
      secret: 's',
    })
    const wrong = authenticateProvider('github', {
      headers: { 'x-hub-signature-256': `sha256=${hmacHex('t', b)}` },
      body: b,
      secret: 's',
    })
    expect(none).toEqual(other)
    expect(other).toEqual(wrong)
    expect(wrong.ok).toBe(false)
  })
})
