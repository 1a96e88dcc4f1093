import { defineOutput, ErrorCodes, isPluginError, PluginError, type SmtpResult, Type } from '@stavily/sdk'

/** Defaults, each with the reason for its value. */
export const DEFAULTS = {
  /** The relay name the SDK's examples and the agent docs use: one relay per agent is the usual case. */
  relay: 'mail',
} as const

/** The secret a relay may take its password from (the relay's passwordSecret); declared so the agent may pass it to the relay, never to this code. */
export const PASSWORD_SECRET = 'SMTP_PASSWORD'

/** Error codes of this plugin. */
export const Codes = {
  /** The relay refused the message or every recipient (5xx, bad credentials): retrying will not help. */
  REJECTED: 'EMAIL_REJECTED',
  /** The relay failed, deferred or could not be reached (4xx, network, timeout): retryable. */
  UNAVAILABLE: 'EMAIL_UNAVAILABLE',
} as const

// Addresses are checked by the host with the SDK's rules (the same in the harness and on an
// agent); the schemas bound their size and count so a bad input fails before any connection.
const Address = Type.String({ minLength: 3, maxLength: 320 })
const Addresses = Type.Union([Address, Type.Array(Address, { minItems: 1, maxItems: 100 })])
const Header = Type.String({ maxLength: 998 })

const Config = Type.Object(
  {
    relay: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9_-]*$',
        maxLength: 64,
        description: 'The SMTP relay the agent defines and grants (grants.smtp.<name>)',
      }),
    ),
    from: Type.Optional(Address),
    to: Type.Optional(Addresses),
    cc: Type.Optional(Addresses),
    replyTo: Type.Optional(Address),
    subjectPrefix: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  {
    subject: Type.String({ minLength: 1, maxLength: 900 }),
    text: Type.Optional(Type.String({ maxLength: 1_000_000 })),
    html: Type.Optional(Type.String({ maxLength: 1_000_000 })),
    to: Type.Optional(Addresses),
    cc: Type.Optional(Addresses),
    from: Type.Optional(Address),
    replyTo: Type.Optional(Address),
    /** Extra `X-` headers, e.g. `X-Stavily-Run`. */
    headers: Type.Optional(
      Type.Record(Type.String({ pattern: '^X-[A-Za-z0-9-]+$', maxLength: 100 }), Header),
    ),
  },
  { additionalProperties: false },
)

const Output = Type.Object({
  relay: Type.String(),
  messageId: Type.String(),
  accepted: Type.Array(Type.String()),
  rejected: Type.Array(Type.String()),
  /** The relay's last answer, e.g. `250 2.0.0 Ok: queued`. */
  response: Type.String(),
})

/**
 * Sends the step's input as an email through an SMTP relay the operator defines on the
 * agent (address, STARTTLS, credentials) and grants this plugin. The text and HTML bodies
 * are the step's input, so the workflow's templates fill them in. Input `to`/`cc`/`from`
 * replace the configured ones. A relay that refuses (5xx) fails for good; one that defers
 * (4xx) or cannot be reached fails as retryable.
 */
export default defineOutput({
  config: Config,
  input: Input,
  output: Output,

  async send(ctx, input) {
    const config = ctx.config
    const relay = config.relay ?? DEFAULTS.relay
    const to = input.to ?? config.to
    if (to === undefined) {
      throw new PluginError(ErrorCodes.INVALID_INPUT, 'input.to: is required when config.to is not set', {
        data: { field: 'to' },
      })
    }
    if (input.text === undefined && input.html === undefined) {
      throw new PluginError(
        ErrorCodes.INVALID_INPUT,
        'input.text: give text, html or both (the body of the message)',
        { data: { field: 'text' } },
      )
    }
    for (const name of Object.keys(input.headers ?? {})) {
      if (!/^X-[A-Za-z0-9-]+$/.test(name))
        throw new PluginError(
          ErrorCodes.INVALID_INPUT,
          `input.headers.${name}: only X- headers may be set; the relay writes the others`,
          { data: { field: `headers.${name}` } },
        )
    }
    const subject =
      config.subjectPrefix === undefined ? input.subject : `${config.subjectPrefix} ${input.subject}`
    const cc = input.cc ?? config.cc
    const from = input.from ?? config.from
    const replyTo = input.replyTo ?? config.replyTo
    const message = {
      to,
      subject,
      ...(cc === undefined ? {} : { cc }),
      ...(from === undefined ? {} : { from }),
      ...(replyTo === undefined ? {} : { replyTo }),
      ...(input.text === undefined ? {} : { text: input.text }),
      ...(input.html === undefined ? {} : { html: input.html }),
      headers: { ...(input.headers ?? {}), 'X-Stavily-Idempotency-Key': ctx.idempotencyKey },
    }

    let sent: SmtpResult
    try {
      sent = await ctx.smtp.send(relay, message)
    } catch (error) {
      if (!isPluginError(error)) throw error
      if (error.code === ErrorCodes.PERMISSION_DENIED) throw error
      // The host checks the message before it connects (an address, a subject with a line
      // break): say which field of the input or config holds the value.
      const field = /^smtp\.send message\.([A-Za-z]+)(\S*): (.*)$/s.exec(error.message)
      if (field) {
        const [, name, rest, problem] = field as unknown as [string, string, string, string]
        const fromInput = (input as Record<string, unknown>)[name] !== undefined
        throw new PluginError(
          fromInput ? ErrorCodes.INVALID_INPUT : ErrorCodes.INVALID_CONFIG,
          `${fromInput ? 'input' : 'config'}.${name}${rest}: ${problem}`,
          { data: { field: `${name}${rest}` } },
        )
      }
      if (error.code === ErrorCodes.INVALID_ARGUMENT) throw error
      throw new PluginError(
        error.retryable ? Codes.UNAVAILABLE : Codes.REJECTED,
        `email via relay "${relay}": ${error.message.replace(/^smtp\.send (via \S+: )?/, '')}`,
        { retryable: error.retryable, ...(error.data === undefined ? {} : { data: error.data }) },
      )
    }
    if (sent.accepted.length === 0) {
      throw new PluginError(
        Codes.REJECTED,
        `email via relay "${relay}": every recipient was refused (${sent.rejected.join(', ')}): ${sent.response}`,
        { data: { rejected: sent.rejected } },
      )
    }
    if (sent.rejected.length > 0) {
      ctx.log.warn('some recipients were refused', { rejected: sent.rejected, relay })
    }
    ctx.log.info('email sent', { relay, messageId: sent.messageId, accepted: sent.accepted.length })
    return { relay, ...sent }
  },
})
