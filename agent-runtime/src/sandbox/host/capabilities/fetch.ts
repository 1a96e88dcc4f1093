// ctx.fetch on the host: node:http(s) with a DNS lookup that checks the address it returns,
// so the address checked is the address connected to (no check-then-resolve race);
// redirects are followed by hand, each hop checked again; response size and time capped.
import { lookup as dnsLookup } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import type { PermissionGuard } from '@stavily/sdk/manifest'
import type { PluginLimits } from '../../../defaults.ts'
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import { addressRefusal } from './address-policy.ts'
import { bad, optionalNumber, plainObject, str, stringRecord } from './args.ts'
import { denied } from './denied.ts'

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
// Headers the host owns: they describe the connection or the body, not the request.
const FORBIDDEN_HEADERS = new Set([
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'expect',
])
const MAX_URL = 8192

export interface FetchOptions {
  guard: PermissionGuard
  limits: PluginLimits
  allowPrivateNetwork: boolean
  deadline: number
  signal: AbortSignal
}

export interface FetchResult {
  status: number
  url: string
  headers: Record<string, string>
  body: string
}

export async function hostFetch(urlArg: unknown, initArg: unknown, o: FetchOptions): Promise<FetchResult> {
  const init = plainObject('fetch init', initArg) ?? {}
  let url = parseUrl(str('fetch url', urlArg, MAX_URL))
  let method = init.method === undefined ? 'GET' : str('fetch init.method', init.method, 10).toUpperCase()
  if (!METHODS.has(method)) throw bad('fetch init.method', [...METHODS].join(', '), init.method)
  const headers = stringRecord('fetch init.headers', init.headers, 100, 16 * 1024)
  for (const name of Object.keys(headers)) {
    if (FORBIDDEN_HEADERS.has(name.toLowerCase()))
      throw bad(`fetch init.headers.${name}`, 'a header the host does not set itself', name)
  }
  let body =
    init.body === undefined || init.body === null
      ? undefined
      : str('fetch init.body', init.body, o.limits.inputBytes, { empty: true })
  const timeoutMs =
    optionalNumber('fetch init.timeoutMs', init.timeoutMs, 1, 24 * 3600_000) ?? o.limits.fetchTimeoutMs
  const deadline = Math.min(o.deadline, Date.now() + Math.min(timeoutMs, o.limits.fetchTimeoutMs))

  for (let hop = 0; ; hop++) {
    const res = await request(url, method, headers, body, deadline, o)
    const location = res.headers.location
    if (res.status >= 300 && res.status < 400 && location !== undefined && res.status !== 304) {
      if (hop >= o.limits.fetchRedirects) {
        throw sandboxError(
          SandboxErrorCodes.CAPABILITY_FAILED,
          `fetch ${url.href}: more than ${o.limits.fetchRedirects} redirects`,
        )
      }
      const next = parseUrl(new URL(location, url).href)
      // Credentials are for the origin they were given to, not wherever it redirects.
      if (next.origin !== url.origin) {
        for (const name of Object.keys(headers)) {
          if (['authorization', 'cookie', 'proxy-authorization'].includes(name.toLowerCase()))
            delete headers[name]
        }
      }
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET'
        body = undefined
      }
      url = next
      continue
    }
    return { ...res, url: url.href }
  }
}

function parseUrl(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw bad('fetch url', 'an absolute http(s) URL', text)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw bad('fetch url', 'an http: or https: URL', text)
  if (url.username || url.password)
    throw bad('fetch url', 'a URL without user:password (send an Authorization header)', text)
  return url
}

function request(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  deadline: number,
  o: FetchOptions,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  // Declared ∩ granted, decided by the SDK's guard (the same one the test harness uses).
  const target = o.guard.net(url.href)
  const host = target.host.replace(/^\[|\]$/g, '')
  const port = target.port
  const rule = { host, allowPrivateNetwork: o.allowPrivateNetwork }
  if (isIP(host) !== 0) {
    const refusal = addressRefusal(host, rule)
    if (refusal) throw denied('net', `${host}:${port}`, 'address', refusal)
  }
  // Resolves, then refuses the whole name if any address it has is not allowed: picking
  // the allowed one would still let a rebinding record steer other clients.
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4)
      const list = addresses as { address: string; family: number }[]
      for (const a of list) {
        const refusal = addressRefusal(a.address, rule)
        if (refusal)
          return callback(
            denied('net', `${host}:${port}`, 'address', refusal) as NodeJS.ErrnoException,
            '',
            4,
          )
      }
      const first = list[0]
      if (!first) return callback(new Error(`${hostname} has no address`) as NodeJS.ErrnoException, '', 4)
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: unknown) => void)(null, list)
      callback(null, first.address, first.family)
    })
  }
  const remaining = deadline - Date.now()
  if (remaining <= 0) return Promise.reject(timeoutError(url))
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http
    const req = mod.request(
      url,
      {
        method,
        headers:
          body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup,
        agent: false,
        signal: AbortSignal.any([o.signal, AbortSignal.timeout(remaining)]),
      },
      (res) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > o.limits.fetchResponseBytes) {
            req.destroy()
            reject(
              sandboxError(
                SandboxErrorCodes.FETCH_TOO_LARGE,
                `fetch ${url.href}: the response is larger than the limit of ${o.limits.fetchResponseBytes} bytes`,
              ),
            )
            return
          }
          chunks.push(chunk)
        })
        res.on('end', () => {
          const out: Record<string, string> = {}
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
          }
          resolve({ status: res.statusCode ?? 0, headers: out, body: Buffer.concat(chunks).toString('utf8') })
        })
        res.on('error', (err) => reject(wrap(url, err)))
      },
    )
    req.on('error', (err) => reject(wrap(url, err)))
    req.end(body)
  })
}

function timeoutError(url: URL): Error {
  return sandboxError(SandboxErrorCodes.FETCH_TIMEOUT, `fetch ${url.href}: timed out`, { retryable: true })
}

function wrap(url: URL, err: Error): Error {
  if ((err as { code?: unknown }).code === SandboxErrorCodes.PERMISSION_DENIED) return err
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return timeoutError(url)
  return sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `fetch ${url.href}: ${err.message}`, {
    retryable: true,
    cause: err,
  })
}
