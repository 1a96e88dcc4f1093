// Limits the SDK applies itself, each with the reason it exists. Host-side limits (memory,
// CPU, output size) belong to the sandbox; these only bound what an error can carry.
export const POLICY = {
  /** An error message is shown in logs and the CLI; longer text is truncated, not rejected. */
  maxErrorMessageLength: 4096,
  /** Error data is for machines: a few levels are enough, deeper is likely a host object. */
  maxErrorDataDepth: 8,
  /** Bounds the work and the size of serialising hostile or huge error data. */
  maxErrorDataEntries: 1000,
  /** A code is an identifier, not a message. */
  maxErrorCodeLength: 100,
} as const
