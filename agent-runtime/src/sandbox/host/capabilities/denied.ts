// PERMISSION_DENIED for the checks the sandbox adds on top of the SDK's permission guard
// (which decides declared ∩ granted): an address a host name resolves to, a symlink that
// leads out of the granted paths, a capability the plugin's kind does not have, a secret the
// host uses as a connection's password.
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'

export type ExtraDenial = 'address' | 'symlink' | 'kind' | 'credential'

export function denied(permission: string, value: string, reason: ExtraDenial, why: string): Error {
  return sandboxError(
    SandboxErrorCodes.PERMISSION_DENIED,
    `permission denied: ${permission} ${JSON.stringify(value)}: ${why}`,
    {
      data: { permission, value, reason },
    },
  )
}
