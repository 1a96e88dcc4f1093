import { ErrorCodes, PluginError } from '@stavily/sdk'
import { type HarnessOptions, testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

// The manifest leaves its hosts to the operator ("$granted"): this is the test grant.
const granted = { manifest: pkg, grants: { net: ['localhost'], secrets: ['HTTP_CHECK_SECRET'] } }
const url = 'http://localhost:8080/health'
const config = { url }
const unreachable = () => {
  // What the agent's fetch throws for a refused connection.
  throw new PluginError('STAVILY_ERR_SANDBOX_CAPABILITY_FAILED', `fetch ${url}: connect ECONNREFUSED`, {
    retryable: true,
  })
}

/** Runs checks one after the other, each starting from the state the previous one left. */
async function checks(responses: HarnessOptions['fetch'][], extra: Record<string, unknown> = {}) {
  let state = {}
  const events: { type: string; data: unknown; dedupeKey?: string }[] = []
  for (const fetch of responses) {
    const result = await testSensor(plugin, { ...granted, config: { ...config, ...extra }, state, fetch })
    events.push(...result.events)
    state = result.state
  }
  return { events, state }
}

describe('http-check', () => {
  it('stays quiet while the target answers as expected, and remembers it is up', async () => {
    const { events, state, calls } = await testSensor(plugin, {
      ...granted,
      config,
      fetch: { localhost: { status: 200, body: 'ok' } },
    })
    expect(events).toEqual([])
    expect(calls.fetch).toMatchObject([{ url, method: 'GET', timeoutMs: 10_000 }])
    expect(Object.values(state)).toMatchObject([{ target: `GET ${url}`, status: 'up', failures: 0 }])
  })

  it('emits one down event when the status is unexpected, then nothing while it stays down', async () => {
    const { events, state } = await checks([
      { localhost: { status: 200 } },
      { localhost: { status: 503, body: 'maintenance' } },
      { localhost: { status: 503 } },
    ])
    expect(events).toHaveLength(1)
    const [down] = events
    expect(down).toMatchObject({
      type: 'http-check.down',
      data: {
        name: `GET ${url}`,
        url,
        reason: 'status',
        detail: 'HTTP 503, expected 2xx: maintenance',
        status: 503,
        consecutiveFailures: 1,
      },
    })
    expect(down?.dedupeKey).toMatch(/^http-check:[0-9a-f]{16}:down:\d{4}-/)
    expect(down!.dedupeKey).toContain((down!.data as { since: string }).since)
    expect(Object.values(state)).toMatchObject([{ status: 'down', failures: 2 }])
  })

  it('emits an up event with the downtime when the target recovers', async () => {
    const { events } = await checks([{ localhost: unreachable }, { localhost: { status: 204 } }])
    expect(events.map((e) => e.type)).toEqual(['http-check.down', 'http-check.up'])
    const [down, up] = events as { data: Record<string, unknown>; dedupeKey: string }[]
    expect(down?.data).toMatchObject({ reason: 'unreachable', status: null, latencyMs: null })
    expect(String(down?.data.detail)).toContain('ECONNREFUSED')
    expect(up?.data).toMatchObject({ status: 204, downSince: down?.data.since })
    expect(up?.data.downtimeMs).toBeGreaterThanOrEqual(0)
    expect(up?.dedupeKey).toBe(down?.dedupeKey.replace(':down:', ':up:'))
  })

  it('reports a timeout as its own reason', async () => {
    const { events } = await checks([
      {
        localhost: () => {
          throw new PluginError('STAVILY_ERR_SANDBOX_FETCH_TIMEOUT', `fetch ${url}: timed out`, {
            retryable: true,
          })
        },
      },
    ])
    expect(events[0]?.data).toMatchObject({ reason: 'timeout', detail: 'no response within 10000 ms' })
  })

  it('checks the body for a substring and a regular expression', async () => {
    const contains = await checks([{ localhost: { body: '{"status":"degraded"}' } }], {
      bodyContains: '"status":"ok"',
    })
    expect(contains.events[0]?.data).toMatchObject({ reason: 'body', status: 200 })
    const matches = await checks([{ localhost: { body: 'Status: OK' } }], {
      bodyMatches: '^status: ok$',
      bodyMatchesFlags: 'im',
    })
    expect(matches.events).toEqual([])
    const mismatch = await checks([{ localhost: { body: 'Status: FAIL' } }], { bodyMatches: '^Status: OK$' })
    expect(mismatch.events[0]?.data).toMatchObject({ reason: 'body' })
    expect(String((mismatch.events[0]!.data as { detail: string }).detail)).toContain('/^Status: OK$/')
  })

  it('accepts explicit statuses and classes', async () => {
    const { events } = await checks([{ localhost: { status: 401 } }, { localhost: { status: 302 } }], {
      expectStatus: [401, '3xx'],
    })
    expect(events).toEqual([])
  })

  it('counts a slow answer as down when maxLatencyMs is exceeded', async () => {
    const slow = async () => {
      const until = Date.now() + 30
      while (Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 5))
      return { status: 200 }
    }
    const { events } = await checks([{ localhost: slow }], { maxLatencyMs: 10 })
    expect(events[0]?.data).toMatchObject({ reason: 'latency', status: 200 })
    expect((events[0]!.data as { latencyMs: number }).latencyMs).toBeGreaterThan(10)
  })

  it('waits for failureThreshold consecutive failures, and dates the outage from the first', async () => {
    const { events } = await checks(
      [{ localhost: { status: 500 } }, { localhost: { status: 200 } }, { localhost: { status: 500 } }],
      { failureThreshold: 2 },
    )
    expect(events).toEqual([]) // a good check in between ends the streak
    const streak = await checks(
      [{ localhost: { status: 500 } }, { localhost: { status: 500 } }, { localhost: { status: 500 } }],
      { failureThreshold: 2, recoveryThreshold: 2 },
    )
    expect(streak.events).toHaveLength(1)
    expect(streak.events[0]?.data).toMatchObject({ consecutiveFailures: 2 })
    const recovery = await testSensor(plugin, {
      ...granted,
      config: { ...config, failureThreshold: 2, recoveryThreshold: 2 },
      state: streak.state,
      fetch: { localhost: { status: 200 } },
    })
    expect(recovery.events).toEqual([]) // one good check is not enough yet
    const recovered = await testSensor(plugin, {
      ...granted,
      config: { ...config, failureThreshold: 2, recoveryThreshold: 2 },
      state: recovery.state,
      fetch: { localhost: { status: 200 } },
    })
    expect(recovered.events.map((e) => e.type)).toEqual(['http-check.up'])
  })

  it('keeps separate state per named target', async () => {
    const a = await testSensor(plugin, {
      ...granted,
      config: { ...config, name: 'a' },
      fetch: { localhost: { status: 500 } },
    })
    const b = await testSensor(plugin, {
      ...granted,
      config: { ...config, name: 'b' },
      state: a.state,
      fetch: { localhost: { status: 500 } },
    })
    expect(b.events).toHaveLength(1)
    expect(Object.keys(b.state)).toHaveLength(2)
  })

  it('checks any host the operator grants, and fails the check (not an outage) for one it does not', async () => {
    const other = await testSensor(plugin, {
      ...granted,
      grants: { net: ['status.example.com:443'] },
      config: { url: 'https://status.example.com/health' },
      fetch: { 'status.example.com': { status: 503 } },
    })
    expect(other.events.map((e) => e.type)).toEqual(['http-check.down'])
    const check = testSensor(plugin, {
      ...granted,
      config: { url: 'https://status.example.com/' },
      fetch: () => ({ status: 200 }),
    })
    await expect(check).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'net', value: 'status.example.com:443', reason: 'ungranted' },
    })
  })

  it('fails the check for a host only partly granted (another name for the same machine)', async () => {
    const result = testSensor(plugin, {
      ...granted,
      grants: { net: ['127.0.0.1'] },
      config,
      fetch: { localhost: { status: 200 } },
    })
    await expect(result).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { reason: 'ungranted' },
    })
  })

  it('rejects bad config, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ url: 'localhost:8080/health' }, 'config.url'],
      [{ url, expectStatus: ['2xy'] }, 'config.expectStatus'],
      [{ url, method: 'POST' }, 'config.method'],
      [{ url, bodyMatches: '(' }, 'config.bodyMatches'],
      [{ url, method: 'HEAD', bodyContains: 'ok' }, 'config.bodyContains'],
      [{ url, bodyMatchesFlags: 'i' }, 'config.bodyMatchesFlags'],
      [{ url, timeout: 5 }, 'timeout'],
    ]
    for (const [bad, field] of cases) {
      const check = testSensor(plugin, {
        ...granted,
        config: bad as never,
        fetch: { localhost: { status: 200 } },
      })
      await expect(check, field).rejects.toMatchObject({
        code: ErrorCodes.INVALID_CONFIG,
        message: expect.stringContaining(field),
      })
    }
  })

  it('starts afresh from a state value it does not recognise', async () => {
    const first = await testSensor(plugin, { ...granted, config, fetch: { localhost: { status: 200 } } })
    const key = Object.keys(first.state)[0]!
    const { events } = await testSensor(plugin, {
      ...granted,
      config,
      state: { [key]: 'garbage' },
      fetch: { localhost: { status: 500 } },
    })
    expect(events.map((e) => e.type)).toEqual(['http-check.down'])
  })
})

describe('http-check events saved by a check that failed half-way', () => {
  it('emits them first on the next check, with the same dedupe key, then forgets them', async () => {
    const first = await testSensor(plugin, { ...granted, config, fetch: { localhost: { status: 500 } } })
    const [down] = first.events
    const id = Object.keys(first.state)[0]!.replace('target:', '')
    // As if the emit had failed after the state was saved: the event is still pending.
    const next = await testSensor(plugin, {
      ...granted,
      config,
      state: { ...first.state, [`pending:${id}`]: [down] } as never,
      fetch: { localhost: { status: 500 } },
    })
    expect(next.events).toEqual([down])
    expect(next.state[`pending:${id}`]).toBeUndefined()
  })

  it('drops, with an error log, a saved event that no longer matches the event schema', async () => {
    const first = await testSensor(plugin, { ...granted, config, fetch: { localhost: { status: 200 } } })
    const id = Object.keys(first.state)[0]!.replace('target:', '')
    const next = await testSensor(plugin, {
      ...granted,
      config,
      state: { ...first.state, [`pending:${id}`]: [{ type: 'http-check.down', data: { old: true } }] },
      fetch: { localhost: { status: 200 } },
    })
    expect(next.events).toEqual([])
    expect(next.logs).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringContaining('dropped a saved event') }),
    )
  })
})

describe('http-check with a secret header', () => {
  it('sends HTTP_CHECK_SECRET in the configured header, with its prefix', async () => {
    let auth: string | undefined
    await testSensor(plugin, {
      ...granted,
      config: { ...config, secretHeader: 'Authorization', secretPrefix: 'Bearer ' },
      secrets: { HTTP_CHECK_SECRET: 'tok' },
      fetch: {
        localhost: (req) => {
          auth = req.headers.authorization
          return { status: 200 }
        },
      },
    })
    expect(auth).toBe('Bearer tok')
  })

  it('fails the check, not as an outage, when the secret is not granted; a prefix needs a header', async () => {
    await expect(
      testSensor(plugin, {
        ...granted,
        grants: { net: ['localhost'] },
        config: { ...config, secretHeader: 'x-token' },
        fetch: { localhost: { status: 200 } },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'secrets', reason: 'ungranted' },
    })
    await expect(
      testSensor(plugin, { ...granted, config: { ...config, secretPrefix: 'Bearer ' } }),
    ).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: expect.stringContaining('config.secretPrefix'),
    })
  })
})
