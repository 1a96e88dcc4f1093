// Limits of the secrets store, each with the reason for its value.

export const SECRET_POLICY = {
  /** Largest secret value: tokens, passwords and PEM keys fit; files do not belong here. */
  maxValueBytes: 65_536,
  /** Most secrets one invocation may receive: a plugin declares a handful. */
  maxPerInvocation: 64,
  /** Rows re-encrypted per transaction during key rotation: short locks, bounded memory. */
  rotateBatch: 200,
  /** File name of the generated key in the data folder. */
  keyFileName: 'secrets.key',
} as const

/** Secret names: what plugin manifests declare and `ctx.secrets.get()` asks for. */
export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/
