import { ErrorCodes } from '@stavily/sdk'
import { testSensor } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin from './index.js'

const config = { url: 'https://status.example.com/health' }

// The harness reads the permissions from package.json, as the agent's sandbox will, and
// answers `ctx.fetch` with fakes by host: no real request is sent.
describe('URL check sensor', () => {
  it('emits nothing while the URL answers 2xx', async () => {
    const { events, calls } = await testSensor(plugin, {
      manifest: pkg,
      config,
      fetch: { 'status.example.com': { status: 200, body: 'ok' } },
    })
    expect(events).toEqual([])
    expect(calls.fetch.map((call) => call.url)).toEqual(['https://status.example.com/health'])
  })

  it('emits http.down once when the URL fails, and remembers the outage', async () => {
    const { events, state } = await testSensor(plugin, {
      manifest: pkg,
      config,
      fetch: { 'status.example.com': { status: 503 } },
    })
    expect(events).toHaveLength(1)
    const since = state['down-since:https://status.example.com/health']
    expect(events[0]).toEqual({
      type: 'http.down',
      data: { url: config.url, status: 503, detail: 'HTTP 503', since },
      dedupeKey: `${config.url}#${since}`,
    })

    // The next check during the same outage stays quiet.
    const again = await testSensor(plugin, {
      manifest: pkg,
      config,
      state,
      fetch: { 'status.example.com': { status: 503 } },
    })
    expect(again.events).toEqual([])
  })

  it('counts a connection failure as down, with the error as the detail', async () => {
    const { events } = await testSensor(plugin, {
      manifest: pkg,
      config,
      fetch: {
        'status.example.com': () => {
          throw new Error('connect ECONNREFUSED 203.0.113.7:443')
        },
      },
    })
    expect(events[0]).toMatchObject({
      type: 'http.down',
      data: { status: null, detail: expect.stringContaining('ECONNREFUSED') },
    })
  })

  it('emits http.recovered when the URL answers again, and forgets the outage', async () => {
    const since = '2026-01-01T00:00:00.000Z'
    const { events, state } = await testSensor(plugin, {
      manifest: pkg,
      config,
      state: { 'down-since:https://status.example.com/health': since },
      fetch: { 'status.example.com': { status: 204 } },
    })
    expect(events).toEqual([
      {
        type: 'http.recovered',
        data: { url: config.url, status: 204, detail: 'HTTP 204', since },
        dedupeKey: `${config.url}#${since}#recovered`,
      },
    ])
    expect(state).toEqual({})
  })

  it('fails the check, instead of reporting an outage, for a host the manifest does not declare', async () => {
    const check = testSensor(plugin, {
      manifest: pkg,
      config: { url: 'https://other.example.org/' },
      fetch: () => ({ status: 200 }),
    })
    await expect(check).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'net', reason: 'undeclared' },
    })
  })

  it('rejects a config URL that is not http(s), naming the field', async () => {
    const check = testSensor(plugin, { manifest: pkg, config: { url: 'status.example.com' } })
    await expect(check).rejects.toMatchObject({
      code: ErrorCodes.INVALID_CONFIG,
      message: expect.stringContaining('config.url'),
    })
  })
})
