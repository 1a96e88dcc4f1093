import { RegistryError } from '../errors.ts'

// tuf-js reports refusals as errors whose class is often lost (its updater wraps them in a
// RuntimeError with the original text), so the reason is read from the message.

export type VerifyFailure =
  | 'expired'
  | 'rollback'
  | 'mix-and-match'
  | 'signature'
  | 'tampered'
  | 'unavailable'
  | 'invalid-metadata'

export function classify(message: string): VerifyFailure {
  if (/expired/i.test(message)) return 'expired'
  if (/less than current version|Expected version \d+/i.test(message)) return 'rollback'
  if (/does not match snapshot version|doesn't match timestamp|Missing file/i.test(message))
    return 'mix-and-match'
  if (/signature|threshold|unsigned|signed by \d+\/\d+ keys/i.test(message)) return 'signature'
  // Our fetcher's cap ("… more than the N bytes expected"): a file longer than it was signed.
  if (/hash|length|more than the \d+/i.test(message)) return 'tampered'
  if (/answered \d{3}|fetch failed|ECONNREFUSED|aborted|timeout/i.test(message)) return 'unavailable'
  return 'invalid-metadata'
}

const EXPLAIN: Record<VerifyFailure, string> = {
  expired: 'the registry metadata has expired (frozen or stale metadata); the registry must re-sign it',
  rollback: 'the registry served older metadata than this agent already trusts (rollback)',
  'mix-and-match': 'the registry served metadata files that do not belong together (mix-and-match)',
  signature: 'metadata is not signed by the keys the trusted root names',
  tampered: 'a file does not match its signed length and hash (tampered)',
  unavailable: 'the registry could not be reached',
  'invalid-metadata': 'the registry served invalid metadata',
}

export function verifyFailed(err: unknown, context: string): RegistryError {
  const message = err instanceof Error ? err.message : String(err)
  const reason = classify(message)
  return new RegistryError(
    'STAVILY_ERR_REGISTRY_VERIFY_FAILED',
    `${context}: ${EXPLAIN[reason]} (${message})`,
    {
      cause: err,
      data: { reason },
    },
  )
}
