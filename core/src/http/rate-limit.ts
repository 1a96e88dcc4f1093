import { createHash } from 'node:crypto'
import { isIPv4, isIPv6 } from 'node:net'
import type { FastifyRequest } from 'fastify'
import type { Tuning } from '../config.ts'
import { StavilyError } from '../errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'
import { parseBearer } from './auth.ts'

// Fixed-window rate limits of both APIs, counted in the fleet store (Redis, so all
// instances share one budget; in-process without it). Counted before authentication, so a
// flood of forged credentials costs the database nothing beyond its limit.
//
// Keys are the client address (as the trusted proxies settle it, see config; an IPv6
// address by its /64, see addressKey) and the
// *parsed* credential, hashed: `Bearer  x`, `Bearer x ` and `bearer x` are one key, so
// whitespace variants of one token share one budget.
//
// The agent API has two classes of traffic with separate budgets, derived from the
// protocol, so that its normal traffic is never throttled into lost or repeated work:
// - `poll`: asking for work or state (poll, heartbeat, plugin set, rotation). Limited per
//   credential and per address: this is the traffic a misbehaving agent multiplies.
// - `report`: accepts, lease renewals, results and events. Each answers work a poll handed
//   out (a poll hands out at most `pollMaxBatch` instructions, each needing an accept, a
//   few renewals and one result), so an agent inside its poll budget stays far inside
//   its report budget (`reportBudget`). Refusing a result would only lose or repeat work.
// The operator API is limited per token and per address; registration per address, tighter.
//
// Hand-written rather than @fastify/rate-limit: the counters live in the FleetState the
// orchestrator already shares (one Redis client and prefix, the in-process fallback, the
// same degraded mode), several keys are counted in one round trip, and the budgets depend
// on the traffic class and the credential's parse, which that plugin's one key cannot say.

export type AgentTraffic = 'poll' | 'report'

/** Reports one handed-out instruction may need: accept, renewals over a long lease, result. */
export const REPORTS_PER_INSTRUCTION = 4

/** The report budget derived from the poll budget (see the header comment). */
export function reportBudget(pollBudget: number, tuning: Pick<Tuning, 'pollMaxBatch'>): number {
  return pollBudget * Math.max(1, tuning.pollMaxBatch) * REPORTS_PER_INSTRUCTION
}

function limited(what: string, resetMs: number): StavilyError {
  const retryAfterSeconds = Math.max(1, Math.ceil(resetMs / 1000))
  return new StavilyError(
    'STAVILY_ERR_RATE_LIMITED',
    `${what}: too many requests; retry in ${retryAfterSeconds} s`,
    { data: { retryAfterSeconds } },
  )
}

/** A short, stable key for a credential; undefined when the header holds none. */
export function credentialKey(req: FastifyRequest): string | undefined {
  const credential = parseBearer(req.headers.authorization)
  if (!credential) return undefined
  return createHash('sha256').update(credential).digest('base64url').slice(0, 22)
}

/**
 * The budget key of a client address. One host on IPv6 is handed a whole /64 and can
 * send from any of its 2^64 addresses, so an IPv6 address counts by its /64; an
 * IPv4-mapped address (`::ffff:10.0.0.1`) counts as its IPv4 address.
 */
export function addressKey(ip: string): string {
  const bare = ip.replace(/%.*$/, '').toLowerCase()
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare)?.[1]
  if (mapped && isIPv4(mapped)) return mapped
  if (!isIPv6(bare)) return bare
  const [head = '', tail] = bare.split('::')
  const groups = (part: string | undefined) => (part ? part.split(':') : [])
  const left = groups(head)
  // Only the first four groups matter, so an embedded IPv4 tail needs no expansion.
  const missing = 8 - left.length - groups(tail).length
  const full = tail === undefined ? left : [...left, ...Array(Math.max(0, missing)).fill('0')]
  return `${full
    .slice(0, 4)
    .map((g) => (Number.parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`
}

type Budget = { key: string; limit: number; what: string }

async function enforce(fleet: FleetState, windowMs: number, budgets: Budget[]): Promise<void> {
  const counts = await fleet.hitMany(
    budgets.map((b) => b.key),
    windowMs,
  )
  for (const [i, b] of budgets.entries()) {
    const c = counts[i]!
    if (c.count > b.limit) throw limited(b.what, c.resetMs)
  }
}

function agentBudgets(req: FastifyRequest, tuning: Tuning, traffic: AgentTraffic): Budget[] {
  const scale = (n: number) => (traffic === 'report' ? reportBudget(n, tuning) : n)
  const budgets: Budget[] = [
    {
      key: `agent:${traffic}:ip:${addressKey(req.ip)}`,
      limit: scale(tuning.rateLimitPerIp),
      what: 'client address',
    },
  ]
  const cred = credentialKey(req)
  if (cred) {
    budgets.push({
      key: `agent:${traffic}:cred:${cred}`,
      limit: scale(tuning.rateLimitPerCredential),
      what: 'credential',
    })
  }
  return budgets
}

/** The agent API's limit for one class of its traffic (see the header comment). */
export function agentRateLimit(fleet: FleetState, tuning: Tuning, traffic: AgentTraffic) {
  return async (req: FastifyRequest): Promise<void> => {
    await enforce(fleet, tuning.rateLimitWindowMs, agentBudgets(req, tuning, traffic))
  }
}

/**
 * Counts one request against a budget of the agent API and says whether it was within it,
 * refusing nothing: a result that also asks for work (`?next=`) is always recorded, and its
 * asking counts as a poll, answered with no work past the poll budget.
 */
export async function withinAgentBudget(
  fleet: FleetState,
  tuning: Tuning,
  traffic: AgentTraffic,
  req: FastifyRequest,
): Promise<boolean> {
  try {
    await enforce(fleet, tuning.rateLimitWindowMs, agentBudgets(req, tuning, traffic))
    return true
  } catch (err) {
    if ((err as StavilyError).code === 'STAVILY_ERR_RATE_LIMITED') return false
    throw err
  }
}

/** Registration: per address, and tighter, so enrollment tokens cannot be guessed. */
export function registerRateLimit(fleet: FleetState, tuning: Tuning) {
  return (req: FastifyRequest): Promise<void> =>
    enforce(fleet, tuning.rateLimitWindowMs, [
      { key: `agent:poll:ip:${addressKey(req.ip)}`, limit: tuning.rateLimitPerIp, what: 'client address' },
      {
        key: `reg:${addressKey(req.ip)}`,
        limit: tuning.registerLimitPerIp,
        what: 'registration from this address',
      },
    ])
}

/** The operator API: per token and per address. */
export function operatorRateLimit(fleet: FleetState, tuning: Tuning) {
  return async (req: FastifyRequest): Promise<void> => {
    const budgets: Budget[] = [
      { key: `op:ip:${addressKey(req.ip)}`, limit: tuning.operatorRateLimitPerIp, what: 'client address' },
    ]
    const cred = credentialKey(req)
    if (cred) {
      budgets.push({ key: `op:tok:${cred}`, limit: tuning.operatorRateLimitPerToken, what: 'API token' })
    }
    await enforce(fleet, tuning.rateLimitWindowMs, budgets)
  }
}

/** Unauthenticated public routes (webhooks): per address. */
export function rateLimit(fleet: FleetState, tuning: Tuning) {
  return (req: FastifyRequest): Promise<void> =>
    enforce(fleet, tuning.rateLimitWindowMs, [
      { key: `ip:${addressKey(req.ip)}`, limit: tuning.rateLimitPerIp, what: 'client address' },
    ])
}
