// The address a connection (sql, smtp) may use: the host is resolved here and checked with
// the same rules as ctx.fetch (address-policy.ts), and the connection is opened to the
// address checked, so no DNS answer can steer it elsewhere between check and connect.
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import { addressRefusal } from './address-policy.ts'
import { denied } from './denied.ts'

export async function resolveChecked(
  permission: string,
  host: string,
  port: number,
  allowPrivateNetwork: boolean,
): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  const rule = { host: bare, allowPrivateNetwork }
  let addresses: { address: string }[]
  if (isIP(bare) !== 0) addresses = [{ address: bare }]
  else {
    try {
      addresses = await lookup(bare, { all: true })
    } catch (err) {
      throw sandboxError(
        SandboxErrorCodes.CAPABILITY_FAILED,
        `${permission}: cannot resolve ${bare}: ${(err as Error).message}`,
        {
          retryable: true,
          cause: err,
        },
      )
    }
  }
  // Every address the name has must be allowed, as for fetch: picking the allowed one would
  // still let a rebinding record steer other clients.
  for (const a of addresses) {
    const refusal = addressRefusal(a.address, rule)
    if (refusal) throw denied(permission, `${bare}:${port}`, 'address', refusal)
  }
  const first = addresses[0]
  if (!first) throw sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `${permission}: ${bare} has no address`)
  return first.address
}
