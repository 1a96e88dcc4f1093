// The receiving peer of the email tests: a real SMTP server on loopback (the smtp-server
// package) that offers STARTTLS with a certificate made for the test, requires AUTH PLAIN or
// LOGIN with the test's credentials, and keeps every delivered message, raw and decoded
// (headers with RFC 2047 words decoded; text and html parts from quoted-printable or base64).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'

export interface Delivered {
  envelope: { from: string; to: string[] }
  /** The session had switched to TLS (STARTTLS) before the message. */
  secure: boolean
  /** The user that authenticated. */
  user: string | undefined
  raw: string
  /** Header names lower-cased; values unfolded and decoded. */
  headers: Record<string, string>
  text: string | undefined
  html: string | undefined
}

export interface SmtpPeer {
  port: number
  /** PEM of the self-signed certificate (CN and SAN localhost): the relay's caFile. */
  caFile: string
  delivered: Delivered[]
  close(): Promise<void>
}

/** A self-signed certificate for localhost, in a folder of its own. */
function certificate(): { dir: string; key: string; cert: string; certFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stavily-email-tls-'))
  const keyFile = join(dir, 'key.pem')
  const certFile = join(dir, 'cert.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  return { dir, key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile }
}

export async function startSmtpPeer(credentials: { user: string; password: string }): Promise<SmtpPeer> {
  const tls = certificate()
  const delivered: Delivered[] = []
  const server = new SMTPServer({
    key: tls.key,
    cert: tls.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    // AUTH only once the session is encrypted, as a relay on the Internet would.
    allowInsecureAuth: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.password)
        return callback(null, { user: auth.username })
      callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }))
    },
    onRcptTo(address, _session, callback) {
      if (address.address.endsWith('@invalid.example'))
        return callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }))
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        delivered.push({
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
          raw,
          ...decode(raw),
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as { port: number }
  return {
    port,
    caFile: tls.certFile,
    delivered,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          rmSync(tls.dir, { recursive: true, force: true })
          resolve()
        }),
      ),
  }
}

/** Headers and the text/html parts of an RFC 5322 message (MIME, as nodemailer writes it). */
export function decode(raw: string): Pick<Delivered, 'headers' | 'text' | 'html'> {
  const part = parsePart(raw)
  let text: string | undefined
  let html: string | undefined
  const visit = (p: Part) => {
    const type = (p.headers['content-type'] ?? 'text/plain').toLowerCase()
    const boundary = /boundary="?([^";]+)"?/i.exec(p.headers['content-type'] ?? '')?.[1]
    if (type.startsWith('multipart/') && boundary) {
      const pieces = p.body.split(`--${boundary}`).slice(1)
      for (const piece of pieces) {
        if (piece.startsWith('--')) break
        visit(parsePart(piece.replace(/^\r\n/, '')))
      }
      return
    }
    const body = bodyText(p)
    if (type.startsWith('text/html')) html = body
    else if (type.startsWith('text/plain')) text = body
  }
  visit(part)
  return { headers: part.headers, text, html }
}

interface Part {
  headers: Record<string, string>
  body: string
}

function parsePart(raw: string): Part {
  const split = raw.indexOf('\r\n\r\n')
  const head = split < 0 ? raw : raw.slice(0, split)
  const body = split < 0 ? '' : raw.slice(split + 4)
  const headers: Record<string, string> = {}
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim())
  }
  return { headers, body }
}

function bodyText(p: Part): string {
  const encoding = (p.headers['content-transfer-encoding'] ?? '7bit').toLowerCase()
  const body = p.body.replace(/\r\n$/, '')
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
  if (encoding === 'quoted-printable') return quotedPrintable(body.replace(/=\r\n/g, ''))
  return body
}

/** RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`). */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, kind: string, text: string) => {
      if (kind.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8')
      return quotedPrintable(text.replace(/_/g, ' '))
    })
}

/** `=XX` escapes to bytes, everything else as it is, read as UTF-8. */
function quotedPrintable(text: string): string {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3)
    if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'))
  }
  return Buffer.from(bytes).toString('utf8')
}
