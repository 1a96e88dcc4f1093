import { ErrorCodes, PluginError } from '@stavily/sdk'
import { type FetchCall, testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.ts'

// The manifest leaves its hosts to the operator ("$granted"): this is the test grant.
const granted = { manifest: pkg, grants: { net: ['localhost'], secrets: ['PROMETHEUS_TOKEN'] } }
const base = 'http://localhost:9090'
const config = { url: base, query: 'up == 0 or node_load1', operator: '>' as const, threshold: 0.9 }
const t = 1_764_300_000

function vector(...series: [Record<string, string>, string][]) {
  return {
    status: 200,
    body: {
      status: 'success',
      data: { resultType: 'vector', result: series.map(([metric, v]) => ({ metric, value: [t, v] })) },
    },
  }
}

const web1 = { __name__: 'node_load1', instance: 'web-1:9100', job: 'node' }
const web2 = { __name__: 'node_load1', instance: 'web-2:9100', job: 'node' }

describe('prometheus-query', () => {
  it('sends the query to /api/v1/query, URL-encoded, and emits one event per series over the threshold', async () => {
    const { events, calls } = await testSensor(plugin, {
      ...granted,
      config: { ...config, url: `${base}/` },
      fetch: { localhost: vector([web1, '0.95'], [web2, '0.20']) },
    })
    expect(calls.fetch[0]?.url).toBe(`${base}/api/v1/query?query=up%20%3D%3D%200%20or%20node_load1`)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      type: 'prometheus.threshold',
      data: {
        name: config.query,
        query: config.query,
        labels: web1,
        value: 0.95,
        valueText: '0.95',
        operator: '>',
        threshold: 0.9,
        sampleTime: new Date(t * 1000).toISOString(),
      },
    })
    expect(events[0]?.dedupeKey).toMatch(/^prometheus:[0-9a-f]{16}:[0-9a-f]{16}:\d{4}-/)
  })

  it('emits a breach once, then stays quiet while it lasts, and reports resolution when asked', async () => {
    const cfg = { ...config, notifyResolved: true }
    const first = await testSensor(plugin, {
      ...granted,
      config: cfg,
      fetch: { localhost: vector([web1, '1.5']) },
    })
    const again = await testSensor(plugin, {
      ...granted,
      config: cfg,
      state: first.state,
      fetch: { localhost: vector([web1, '2.5'], [web2, '0.1']) },
    })
    expect(again.events).toEqual([])
    const resolved = await testSensor(plugin, {
      ...granted,
      config: cfg,
      state: again.state,
      fetch: { localhost: vector([web1, '0.3']) },
    })
    expect(resolved.events).toEqual([
      expect.objectContaining({
        type: 'prometheus.resolved',
        data: expect.objectContaining({ labels: web1, value: 0.3, since: first.events[0]!.data.since }),
      }),
    ])
    expect(resolved.state).toEqual({})
    // Without notifyResolved the end of a breach is silent; a later breach is a new event.
    const quiet = await testSensor(plugin, {
      ...granted,
      config,
      state: first.state,
      fetch: { localhost: vector() },
    })
    expect(quiet.events).toEqual([])
  })

  // The operators themselves are the SDK's compareToThreshold (tested in sdk).
  it('reads Prometheus special values against the threshold', async () => {
    const { events } = await testSensor(plugin, {
      ...granted,
      config: { ...config, operator: '>=', threshold: 100 },
      fetch: { localhost: vector([web1, '+Inf'], [web2, 'NaN']) },
    })
    expect(events.map((e) => e.data)).toEqual([expect.objectContaining({ value: null, valueText: '+Inf' })])
  })

  it('compares a scalar result', async () => {
    const { events } = await testSensor(plugin, {
      ...granted,
      config: { ...config, query: 'scalar(sum(up))', operator: '<', threshold: 3 },
      fetch: { localhost: { body: { status: 'success', data: { resultType: 'scalar', result: [t, '2'] } } } },
    })
    expect(events[0]?.data).toMatchObject({ labels: {}, value: 2 })
  })

  it('sends the PROMETHEUS_TOKEN secret as a bearer token when configured', async () => {
    let seen: FetchCall | undefined
    await testSensor(plugin, {
      ...granted,
      config: { ...config, bearerToken: true },
      secrets: { PROMETHEUS_TOKEN: 's3cret' },
      fetch: {
        localhost: (req) => {
          seen = req
          return vector()
        },
      },
    })
    expect(seen?.headers.authorization).toBe('Bearer s3cret')
  })

  it('caps the events per check at maxSeries and says so', async () => {
    const many = Array.from(
      { length: 5 },
      (_, i) => [{ instance: `h${i}` }, '5'] as [Record<string, string>, string],
    )
    const { events, logs } = await testSensor(plugin, {
      ...granted,
      config: { ...config, maxSeries: 2 },
      fetch: { localhost: vector(...many) },
    })
    expect(events).toHaveLength(2)
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ series: 5 }) }),
    )
  })

  it('logs the warnings Prometheus sends with a result', async () => {
    const { logs } = await testSensor(plugin, {
      ...granted,
      config,
      fetch: {
        localhost: {
          body: { status: 'success', warnings: ['partial data'], data: { resultType: 'vector', result: [] } },
        },
      },
    })
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({ warning: 'partial data' }),
      }),
    )
  })
})

describe('prometheus-query failures', () => {
  const error = (status: number, errorType: string, message: string) => ({
    status,
    body: { status: 'error', errorType, error: message },
  })

  it('names config.query when Prometheus rejects the query (400), not retryable', async () => {
    const check = testSensor(plugin, {
      ...granted,
      config,
      fetch: { localhost: error(400, 'bad_data', '1:5: parse error: unexpected "=="') },
    })
    await expect(check).rejects.toMatchObject({
      code: 'PROMETHEUS_QUERY_INVALID',
      retryable: false,
      message: 'config.query: Prometheus rejected the query: 1:5: parse error: unexpected "=="',
    })
  })

  it('reports an execution error (422) as not retryable, and a timeout (503) as retryable', async () => {
    await expect(
      testSensor(plugin, {
        ...granted,
        config,
        fetch: { localhost: error(422, 'execution', 'too many samples') },
      }),
    ).rejects.toMatchObject({ code: 'PROMETHEUS_QUERY_FAILED', retryable: false })
    await expect(
      testSensor(plugin, {
        ...granted,
        config,
        fetch: { localhost: error(503, 'timeout', 'query timed out') },
      }),
    ).rejects.toMatchObject({ code: 'PROMETHEUS_UNAVAILABLE', retryable: true, data: { status: 503 } })
  })

  it('explains answers that are not the Prometheus API', async () => {
    await expect(
      testSensor(plugin, {
        ...granted,
        config,
        fetch: { localhost: { status: 404, body: '404 page not found' } },
      }),
    ).rejects.toMatchObject({ code: 'PROMETHEUS_BAD_RESPONSE', message: expect.stringContaining('base URL') })
    await expect(
      testSensor(plugin, {
        ...granted,
        config,
        fetch: { localhost: { status: 502, body: '<html>Bad gateway</html>' } },
      }),
    ).rejects.toMatchObject({ code: 'PROMETHEUS_UNAVAILABLE', retryable: true })
    await expect(
      testSensor(plugin, {
        ...granted,
        config,
        fetch: { localhost: { status: 401, body: 'Unauthorized' } },
      }),
    ).rejects.toMatchObject({ code: 'PROMETHEUS_UNAUTHORIZED', retryable: false })
  })

  it('refuses a range vector result with a hint', async () => {
    const check = testSensor(plugin, {
      ...granted,
      config: { ...config, query: 'up[5m]' },
      fetch: { localhost: { body: { status: 'success', data: { resultType: 'matrix', result: [] } } } },
    })
    await expect(check).rejects.toMatchObject({
      code: 'PROMETHEUS_UNSUPPORTED_RESULT',
      message: expect.stringContaining('range vector'),
    })
  })

  it('rejects a malformed result', async () => {
    const check = testSensor(plugin, {
      ...granted,
      config,
      fetch: {
        localhost: {
          body: {
            status: 'success',
            data: { resultType: 'vector', result: [{ metric: {}, value: [t, 'lots'] }] },
          },
        },
      },
    })
    await expect(check).rejects.toMatchObject({
      code: 'PROMETHEUS_BAD_RESPONSE',
      message: expect.stringContaining('"lots"'),
    })
  })

  it('turns a refused connection into a retryable PROMETHEUS_UNAVAILABLE', async () => {
    const check = testSensor(plugin, {
      ...granted,
      config,
      fetch: {
        localhost: () => {
          throw new PluginError(
            'STAVILY_ERR_SANDBOX_CAPABILITY_FAILED',
            'connect ECONNREFUSED 127.0.0.1:9090',
            { retryable: true },
          )
        },
      },
    })
    await expect(check).rejects.toMatchObject({
      code: 'PROMETHEUS_UNAVAILABLE',
      retryable: true,
      message: expect.stringContaining('ECONNREFUSED'),
    })
  })

  it('queries any Prometheus the operator grants; fails with the permission error for another host or an ungranted secret', async () => {
    const remote = await testSensor(plugin, {
      ...granted,
      grants: { net: ['prometheus.example.com:443'] },
      config: { ...config, url: 'https://prometheus.example.com' },
      fetch: { 'prometheus.example.com': vector([web1, '0.95']) },
    })
    expect(remote.events).toHaveLength(1)
    await expect(
      testSensor(plugin, {
        ...granted,
        config: { ...config, url: 'https://prometheus.example.com' },
        fetch: () => vector(),
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'net', value: 'prometheus.example.com:443', reason: 'ungranted' },
    })
    await expect(
      testSensor(plugin, {
        ...granted,
        grants: { net: ['localhost'] },
        config: { ...config, bearerToken: true },
        fetch: { localhost: vector() },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'secrets', reason: 'ungranted' },
    })
  })

  it('rejects bad config, naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...config, url: 'localhost:9090' }, 'config.url'],
      [{ ...config, url: `${base}/api/v1/query` }, 'config.url'],
      [{ ...config, url: `${base}?x=1` }, 'config.url'],
      [{ ...config, operator: '=>' }, 'config.operator'],
      [{ ...config, threshold: '0.9' }, 'config.threshold'],
      [{ ...config, query: '' }, 'config.query'],
      [{ url: base, operator: '>', threshold: 1 }, 'config.query'],
    ]
    for (const [bad, field] of cases) {
      await expect(
        testSensor(plugin, { ...granted, config: bad as never, fetch: { localhost: vector() } }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(field) })
    }
  })
})

describe('prometheus-query state', () => {
  it('keeps labels in its state only when resolved events need them', async () => {
    const quiet = await testSensor(plugin, {
      ...granted,
      config,
      fetch: { localhost: vector([web1, '5']) },
    })
    expect(Object.values(Object.values(quiet.state)[0] as object)).toEqual([
      { since: expect.any(String), labels: {} },
    ])
    const full = await testSensor(plugin, {
      ...granted,
      config: { ...config, notifyResolved: true },
      fetch: { localhost: vector([web1, '5']) },
    })
    expect(Object.values(Object.values(full.state)[0] as object)).toEqual([
      { since: expect.any(String), labels: web1 },
    ])
  })
})
