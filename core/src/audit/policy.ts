// Limits of the audit log, each with the reason for its value.

export const AUDIT_POLICY = {
  /** Largest `data` of one entry (canonical JSON): entries describe changes, they do not carry payloads. */
  maxDataBytes: 65_536,
  /** Rows read per page by verification: bounded memory however long the chain is. */
  verifyPageSize: 1_000,
  /** Most entries one list call returns. */
  maxListLimit: 500,
  defaultListLimit: 100,
} as const

/** The previous hash of an organization's first entry. */
export const GENESIS_HASH = Buffer.alloc(32)
