// @stavily/core/bench: the platform start and the HTTP plumbing the benchmarks that drive a
// whole orchestrator share (core's workflows and dispatch, e2e's real-agents). The
// orchestrator is started as production starts it, as its own process (dist/main.js, or
// src/main.ts through tsx before a build), with rate limits lifted: the figures are the run
// path's, not the limits'. Workspace-only, like @stavily/core/testing; it lives in a folder
// below bench/ so bench/run.ts does not take it for a benchmark.
import { type ChildProcess, spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { nowMs } from '../../../bench/lib.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const DIST_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url))
const SRC_MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url))

/** The orchestrator's entry as node arguments: the build when there is one, else the source through tsx. */
export const ORCHESTRATOR_ARGS = existsSync(DIST_MAIN) ? [DIST_MAIN] : ['--import', 'tsx', SRC_MAIN]
/** What the orchestrator process was started from (for a benchmark's info). */
export const ORCHESTRATOR_ENTRY = existsSync(DIST_MAIN) ? 'core/dist/main.js' : 'core/src/main.ts via tsx'

/** Every rate limit lifted, as the orchestrator's environment sets them. */
export const UNLIMITED_ENV: Record<string, string> = {
  STAVILY_RATE_LIMIT_PER_CREDENTIAL: '1000000000',
  STAVILY_RATE_LIMIT_PER_IP: '1000000000',
  STAVILY_REGISTER_LIMIT_PER_IP: '1000000000',
  STAVILY_OPERATOR_RATE_LIMIT_PER_TOKEN: '1000000000',
  STAVILY_OPERATOR_RATE_LIMIT_PER_IP: '1000000000',
}

/** The same, as an in-process orchestrator's tuning. */
export const UNLIMITED_TUNING = {
  rateLimitPerCredential: 1e9,
  rateLimitPerIp: 1e9,
  registerLimitPerIp: 1e9,
  operatorRateLimitPerToken: 1e9,
  operatorRateLimitPerIp: 1e9,
}

export interface PlatformOptions {
  /** Stavily's schema (pg-boss's and the registry's are named after it). */
  schema: string
  /** The bootstrap admin token, the benchmark's operator credential. */
  admin: string
  /** PostgreSQL; without it the embedded PGlite (give STAVILY_DATA_DIR in `env`). */
  dbUrl?: string | undefined
  /** Redis; without it fleet state stays in the process. */
  redisUrl?: string | undefined
  /** Redis key prefix (default `<schema>:`, which e2e's dropPlatformData cleans). */
  redisPrefix?: string
  /** More environment, after the defaults. */
  env?: Record<string, string>
  /** Node flags before the entry (a preload, a CPU profile). */
  nodeArgs?: string[]
}

export interface Platform {
  child: ChildProcess
  /** The agent API's (and, on one listener, the operator API's) base URL. */
  url: string
  /** Spawn → ready line. */
  ms: number
}

/** The orchestrator's environment for a benchmark: loopback, port 0, limits lifted, no poll jitter. */
export function platformEnv(o: PlatformOptions): Record<string, string> {
  return {
    DATABASE_URL: o.dbUrl ?? '',
    STAVILY_SCHEMA: o.schema,
    ...(o.redisUrl
      ? { REDIS_URL: o.redisUrl, STAVILY_REDIS_PREFIX: o.redisPrefix ?? `${o.schema}:` }
      : { REDIS_URL: '' }),
    STAVILY_HOST: '127.0.0.1',
    STAVILY_PORT: '0',
    STAVILY_BOOTSTRAP_TOKEN: o.admin,
    STAVILY_POLL_JITTER_MS: '0',
    ...UNLIMITED_ENV,
    ...o.env,
  }
}

/** Starts the orchestrator process; resolves at its ready line (the first JSON line on stdout). */
export function startPlatform(o: PlatformOptions): Promise<Platform> {
  return spawnOrchestrator(platformEnv(o), o.nodeArgs)
}

/** The orchestrator process with `env` over this process's; resolves at its ready line. */
export async function spawnOrchestrator(
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<Platform> {
  const ready = await spawnReady([...nodeArgs, ...ORCHESTRATOR_ARGS], env)
  return { child: ready.child, url: JSON.parse(ready.line).agentUrl, ms: ready.ms }
}

export interface Ready {
  child: ChildProcess
  /** Spawn → ready line. */
  ms: number
  /** The child's resident memory when its ready line came, in MiB. */
  rssMb: number
  /** The ready line. */
  line: string
}

/**
 * `node <args>` with `env` over this process's environment, from the repository root;
 * resolves when a stdout line starts with `{` (a ready line), with the time it took and the
 * child's memory at that moment. An exit before it rejects with the end of its stderr.
 */
export function spawnReady(args: string[], env: Record<string, string>): Promise<Ready> {
  const t0 = nowMs()
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString()
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) {
        const ms = nowMs() - t0
        resolve({ child, ms, rssMb: rssOf(child.pid!).rss, line })
      }
    })
    child.on('exit', (code) =>
      reject(new Error(`node ${args.join(' ')} exited (${code}): ${err.slice(-4000)}`)),
    )
  })
}

/** `fn` over `items` with at most `limit` in flight (each worker takes the next item), results in order. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await fn(items[i]!)
      }
    }),
  )
  return out
}

/** SIGTERM, then SIGKILL after 15 s; resolves when the process is gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.on('exit', () => {
      clearTimeout(t)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** A process's resident and peak resident memory, in MiB (Linux). */
export function rssOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN)
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 }
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })

/** Closes the kept-alive connections `request` opened (at the end of a benchmark). */
export function closeConnections(): void {
  keepAlive.destroy()
}

export interface Reply {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: the benchmark reads the API's JSON answers as is
  body: any
}

export interface RequestOptions {
  token?: string | undefined
  body?: unknown
  /** Bytes sent as they are (a signed webhook body), instead of `body` as JSON. */
  raw?: Buffer
  headers?: Record<string, string>
}

/** One HTTP request on a kept-alive connection; the answer's JSON parsed. */
export function request(
  base: string,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = opts.raw ?? (opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body)))
    const req = http.request(
      `${base}${path}`,
      {
        method,
        agent: keepAlive,
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString()
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined })
        })
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

/** The reply, or an error naming `what` when its status is not a success. */
export async function ok(what: string, reply: Promise<Reply>): Promise<Reply> {
  const r = await reply
  if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`)
  return r
}

const FINISHED = ['succeeded', 'failed', 'cancelled', 'timed_out']

/** Follows the live stream and calls `onFinished` when a run finishes. */
export function followRuns(
  base: string,
  token: string,
  onFinished: (runId: string, status: string) => void,
): Promise<http.ClientRequest> {
  return new Promise<http.ClientRequest>((resolve, reject) => {
    const req = http.get(`${base}/api/v1/stream?token=${token}`, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream: HTTP ${res.statusCode}`))
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buf += chunk
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i)
          buf = buf.slice(i + 2)
          if (!block.startsWith('event: run')) continue
          const data = JSON.parse(block.slice(block.indexOf('data: ') + 6))
          if (FINISHED.includes(data.status)) onFinished(data.runId, data.status)
        }
      })
      resolve(req)
    })
    req.on('error', reject)
  })
}

export interface WebhookRuns {
  /** Sends one signed webhook with `{ n }` (n counting up) and resolves when its run finished. */
  runOnce(): Promise<{ ms: number; status: string }>
  /** Stops following the stream. */
  close(): void
}

/**
 * A webhook workflow ready to run: its secret stored (as HOOK_KEY), the document applied, the
 * live stream followed. A run that does not finish within `timeoutMs` fails the benchmark.
 */
export async function webhookRuns(
  base: string,
  admin: string,
  workflow: { document: string; secret: string; timeoutMs?: number },
): Promise<WebhookRuns> {
  const { secret } = workflow
  await ok(
    'secret',
    request(base, 'PUT', '/api/v1/secrets/HOOK_KEY', { token: admin, body: { value: secret } }),
  )
  const applied = await ok(
    'apply',
    request(base, 'POST', '/api/v1/workflows', { token: admin, body: { document: workflow.document } }),
  )
  const hook = `/api/v1/hooks/${applied.body.workflow.id}`
  const timeoutMs = workflow.timeoutMs ?? 60_000
  const waiters = new Map<string, (status: string) => void>()
  // Runs whose end the stream showed before their webhook's answer arrived.
  const early = new Map<string, string>()
  const stream = await followRuns(base, admin, (runId, status) => {
    const w = waiters.get(runId)
    if (w) {
      waiters.delete(runId)
      w(status)
    } else early.set(runId, status)
  })
  let seq = 0
  return {
    async runOnce() {
      const raw = Buffer.from(JSON.stringify({ n: seq++ }))
      const t = Math.floor(Date.now() / 1000)
      const sig = createHmac('sha256', secret).update(`${t}.`).update(raw).digest('hex')
      const t0 = nowMs()
      const r = await request(base, 'POST', hook, {
        raw,
        headers: { 'stavily-signature': `t=${t},v1=${sig}` },
      })
      if (r.status !== 202 || !r.body.runId)
        throw new Error(`hook: HTTP ${r.status} ${JSON.stringify(r.body)}`)
      const runId = r.body.runId as string
      const status =
        early.get(runId) ??
        (await new Promise<string>((res, rej) => {
          const timer = setTimeout(() => {
            waiters.delete(runId)
            rej(new Error(`run ${runId} did not finish within ${timeoutMs / 1000} s`))
          }, timeoutMs)
          waiters.set(runId, (st) => {
            clearTimeout(timer)
            res(st)
          })
        }))
      early.delete(runId)
      return { ms: nowMs() - t0, status }
    },
    close() {
      stream.destroy()
    },
  }
}

/** An instruction as the agent API hands it out (the fields a simulated agent reads). */
export interface SimInstruction {
  id: string
  attempt: number
  plugin: string
  input: unknown
}

/**
 * One simulated action agent speaking the protocol as stavily-agent does: it polls for up to
 * 10 instructions, answers each at once with `answer`'s output, and each result asks for the
 * next instruction (`?next=1`), which it answers in turn; it polls again when a reply carries
 * none. Runs until `running()` is false.
 */
export async function simulatedAgent(
  base: string,
  credential: string,
  answer: (instruction: SimInstruction) => unknown,
  running: () => boolean,
  waitMs = 1000,
): Promise<void> {
  const work = async (instruction: SimInstruction): Promise<void> => {
    let next: SimInstruction | undefined = instruction
    while (next) {
      const r: Reply = await request(base, 'POST', `/agents/v1/instructions/${next.id}/result?next=1`, {
        token: credential,
        body: { attempt: next.attempt, status: 'succeeded', output: answer(next) },
      })
      next = r.body?.instructions?.[0]
    }
  }
  while (running()) {
    const got = await request(base, 'GET', `/agents/v1/instructions?waitMs=${waitMs}&max=10`, {
      token: credential,
    })
    await Promise.all(((got.body?.instructions ?? []) as SimInstruction[]).map(work))
  }
}
