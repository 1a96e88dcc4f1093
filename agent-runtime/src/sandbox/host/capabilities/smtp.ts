// ctx.smtp on the host (actions and outputs): one message through an SMTP relay the
// operator defines on the agent (connections.ts) and grants the plugin. The relay's address
// is resolved and checked like a fetch's (resolve-address.ts) and connected to as checked;
// STARTTLS is required on smtp:// unless the operator says tls: none, the certificate is
// verified against the relay's name, and AUTH uses a password from a secret or a file that
// plugin code never sees. The message is checked by the SDK's rules (same as the harness).
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { mailMessageProblem, type PermissionGuard } from '@stavily/sdk/manifest'
import type nodemailerTypes from 'nodemailer'
import type { PluginLimits } from '../../../defaults.ts'
import { SandboxErrorCodes, sandboxError } from '../../../errors.ts'
import { str } from './args.ts'
import type { SmtpRelayGrant } from './connections.ts'
import { resolveChecked } from './resolve-address.ts'

// Loaded on first use: most agents never send mail, and the host's idle memory is measured.
let mailerModule: Promise<typeof nodemailerTypes> | undefined
const loadMailer = () => {
  mailerModule ??= import('nodemailer').then(
    (m) => (m as unknown as { default: typeof nodemailerTypes }).default ?? m,
  )
  return mailerModule
}

export interface SmtpOptions {
  guard: PermissionGuard
  limits: PluginLimits
  relays: Record<string, SmtpRelayGrant>
  secrets: Record<string, string>
  allowPrivateNetwork: boolean
  deadline: number
  signal: AbortSignal
}

export interface SmtpSendResult {
  messageId: string
  accepted: string[]
  rejected: string[]
  response: string
}

export async function hostSmtpSend(
  relayArg: unknown,
  messageArg: unknown,
  o: SmtpOptions,
): Promise<SmtpSendResult> {
  const name = o.guard.smtp(str('smtp.send relay', relayArg, 64))
  const relay = o.relays[name]
  if (!relay)
    throw sandboxError(
      SandboxErrorCodes.CAPABILITY_FAILED,
      `smtp.send: relay "${name}" is granted but the agent defines no such relay (grants.smtp.${name}.url)`,
    )
  const problem = mailMessageProblem(messageArg, o.limits.smtpMessageBytes)
  if (problem !== undefined) throw sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, problem)
  const message = messageArg as {
    from?: string
    to: string | string[]
    cc?: string | string[]
    bcc?: string | string[]
    replyTo?: string
    subject: string
    text?: string
    html?: string
    headers?: Record<string, string>
  }
  const from = message.from ?? relay.from
  if (from === undefined)
    throw sandboxError(
      SandboxErrorCodes.CAPABILITY_FAILED,
      `smtp.send message.from: required, since relay "${name}" sets no from (grants.smtp.${name}.from)`,
    )
  const url = new URL(relay.url)
  const implicitTls = url.protocol === 'smtps:' || relay.tls === 'tls'
  const port = url.port === '' ? (implicitTls ? 465 : 587) : Number(url.port)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const address = await resolveChecked(`smtp relay "${name}"`, host, port, o.allowPrivateNetwork)
  let password: string | undefined
  if (relay.passwordSecret) {
    password = o.secrets[relay.passwordSecret]
    if (password === undefined)
      throw sandboxError(
        SandboxErrorCodes.SECRET_MISSING,
        `smtp.send: relay "${name}" takes its password from the secret ${relay.passwordSecret}, which was not supplied for this call: the plugin must declare it in permissions.secrets and the agent grant it`,
        { data: { name: relay.passwordSecret } },
      )
  } else if (relay.passwordFile) {
    password = (
      await readFile(relay.passwordFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw sandboxError(
          SandboxErrorCodes.CAPABILITY_FAILED,
          `smtp.send: relay "${name}": cannot read its passwordFile: ${err.code}`,
        )
      })
    ).trim()
  }
  const user = decodeURIComponent(url.username)
  const ca = relay.caFile
    ? await readFile(relay.caFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw sandboxError(
          SandboxErrorCodes.CAPABILITY_FAILED,
          `smtp.send: relay "${name}": cannot read its caFile: ${err.code}`,
        )
      })
    : undefined
  const timeoutMs = Math.max(1, Math.min(o.limits.smtpTimeoutMs, o.deadline - Date.now()))
  const nodemailer = await loadMailer()
  const transport = nodemailer.createTransport({
    host: address,
    port,
    secure: implicitTls,
    requireTLS: !implicitTls && relay.tls !== 'none',
    ignoreTLS: relay.tls === 'none',
    // The certificate is checked against the relay's name, not the address connected to.
    tls: {
      ...(isIP(host) === 0 ? { servername: host } : {}),
      rejectUnauthorized: true,
      ...(ca ? { ca } : {}),
    },
    name: 'stavily-agent',
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    ...(user ? { auth: { user, pass: password ?? '' } } : {}),
  })
  // The call's signal goes to sendMail, which closes the connection when it aborts and
  // starts nothing on one already aborted (transport.close() would leave a send in progress
  // running). The time limit is nodemailer's own: its connection, greeting and socket
  // timeouts are timeoutMs.
  try {
    const info = await transport.sendMail({
      from,
      to: message.to,
      ...(message.cc ? { cc: message.cc } : {}),
      ...(message.bcc ? { bcc: message.bcc } : {}),
      ...(message.replyTo ? { replyTo: message.replyTo } : {}),
      subject: message.subject,
      ...(message.text !== undefined ? { text: message.text } : {}),
      ...(message.html !== undefined ? { html: message.html } : {}),
      ...(message.headers ? { headers: message.headers } : {}),
      // Nothing from the agent's disk or network: no attachments, no remote content.
      disableFileAccess: true,
      disableUrlAccess: true,
      signal: o.signal,
    })
    const list = (v: unknown) =>
      Array.isArray(v)
        ? v.map((x) => (typeof x === 'string' ? x : String((x as { address?: string }).address ?? x)))
        : []
    return {
      messageId: String(info.messageId ?? ''),
      accepted: list(info.accepted),
      rejected: list(info.rejected),
      response: String(info.response ?? ''),
    }
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message?: string }
    if (o.signal.aborted)
      throw sandboxError(SandboxErrorCodes.CAPABILITY_FAILED, `smtp.send via ${name}: stopped or timed out`, {
        retryable: true,
      })
    // 4xx answers and connection trouble may pass; 5xx (a refused recipient, bad credentials) will not.
    const retryable = e.responseCode === undefined ? e.code !== 'EAUTH' : e.responseCode < 500
    throw sandboxError(
      SandboxErrorCodes.CAPABILITY_FAILED,
      `smtp.send via ${name}: ${e.message ?? String(err)}`,
      {
        retryable,
        data: {
          ...(e.code ? { smtpCode: e.code } : {}),
          ...(e.responseCode ? { responseCode: e.responseCode } : {}),
        },
        cause: err,
      },
    )
  } finally {
    transport.close()
  }
}
