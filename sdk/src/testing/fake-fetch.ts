import type { Fetch, FetchResponse } from '../context.ts'
import { ErrorCodes, PluginError } from '../errors.ts'
import { matchCanonical, parseHostPattern } from '../manifest/host-pattern.ts'
import type { PermissionGuard } from '../manifest/permission-guard.ts'
import { invalid, optionalNumber, optionalObject, string, stringRecord } from './args.ts'
import type { FakeResponse, FetchCall, HarnessOptions } from './options.ts'
import type { Calls } from './recorder.ts'

/** `ctx.fetch` of the harness: the permission guard first, then the fake for the host. */
export function fakeFetch(guard: PermissionGuard, fakes: HarnessOptions['fetch'], calls: Calls): Fetch {
  return async (url, init) => {
    const target = guard.net(string('fetch url', url))
    const options = optionalObject('fetch init', init)
    const method =
      options.method === undefined ? 'GET' : string('fetch init.method', options.method).toUpperCase()
    const headers = lowerCaseKeys(stringRecord('fetch init.headers', options.headers))
    const body =
      options.body === undefined ? undefined : string('fetch init.body', options.body, { empty: true })
    const timeoutMs = optionalNumber('fetch init.timeoutMs', options.timeoutMs)
    const call: FetchCall = {
      url: target.url.href,
      host: target.host,
      port: target.port,
      method,
      headers,
      body,
      timeoutMs,
    }
    calls.fetch.push(call)
    const fake = pick(fakes, target.host, target.port)
    if (fake === undefined) {
      throw new PluginError(
        ErrorCodes.TEST_FAKE_MISSING,
        `harness: no fake response for ${method} ${call.url}; pass fetch: { "${target.host}": { status: 200, body: ... } }`,
        { data: { url: call.url } },
      )
    }
    const response = typeof fake === 'function' ? await fake({ ...call, headers: { ...headers } }) : fake
    return toResponse(response, call.url)
  }
}

function pick(fakes: HarnessOptions['fetch'], host: string, port: number) {
  if (fakes === undefined) return undefined
  if (typeof fakes === 'function') return fakes
  const exact = fakes[`${host}:${port}`] ?? fakes[host]
  if (exact !== undefined) return exact
  // Then keys written as patterns, as in the manifest ("*.slack.com", "*.slack.com:443").
  for (const [key, fake] of Object.entries(fakes)) {
    const parsed = parseHostPattern(key)
    if (parsed.ok && matchCanonical(parsed.pattern, host, port)) return fake
  }
  return undefined
}

function toResponse(fake: FakeResponse, requestUrl: string): FetchResponse {
  if (typeof fake !== 'object' || fake === null)
    throw invalid('harness fake response', 'an object { status?, headers?, body? }', fake)
  const status = fake.status ?? 200
  const headers = lowerCaseKeys(fake.headers ?? {})
  let body: string
  if (fake.body === undefined) body = ''
  else if (typeof fake.body === 'string') body = fake.body
  else {
    body = JSON.stringify(fake.body)
    headers['content-type'] ??= 'application/json'
  }
  return {
    status,
    ok: status >= 200 && status <= 299,
    url: fake.url ?? requestUrl,
    headers,
    body,
    json: () => JSON.parse(body) as unknown,
  }
}

function lowerCaseKeys(record: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(record)) out[key.toLowerCase()] = value
  return out
}
