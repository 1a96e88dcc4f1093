import { createHash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Tuning } from '../config.ts'
import { StavilyError } from '../errors.ts'
import type { FleetState } from '../fleet/fleet-state.ts'

// Fixed-window rate limits on the agent API, counted in the fleet store (Redis, so all
// instances share one budget): per client IP, per credential, and a tighter one for
// registration. Counted before authentication, so a flood of forged credentials costs the
// database nothing beyond its limit.

function limited(what: string, resetMs: number): StavilyError {
  const retryAfterSeconds = Math.max(1, Math.ceil(resetMs / 1000))
  return new StavilyError(
    'STAVILY_ERR_RATE_LIMITED',
    `${what}: too many requests; retry in ${retryAfterSeconds} s`,
    {
      data: { retryAfterSeconds },
    },
  )
}

export function rateLimit(fleet: FleetState, tuning: Tuning, opts: { register?: boolean } = {}) {
  return async (req: FastifyRequest): Promise<void> => {
    const keys = [`ip:${req.ip}`]
    const h = req.headers.authorization
    if (opts.register) keys.push(`reg:${req.ip}`)
    else if (typeof h === 'string' && h.length > 7) {
      keys.push(`cred:${createHash('sha256').update(h).digest('base64url').slice(0, 22)}`)
    }
    const [ip, second] = await fleet.hitMany(keys, tuning.rateLimitWindowMs)
    if (ip!.count > tuning.rateLimitPerIp) throw limited('client address', ip!.resetMs)
    if (!second) return
    if (opts.register && second.count > tuning.registerLimitPerIp) {
      throw limited('registration from this address', second.resetMs)
    }
    if (!opts.register && second.count > tuning.rateLimitPerCredential)
      throw limited('credential', second.resetMs)
  }
}
