import { object } from './body-shape.ts'
import { sameHmac } from './compare.ts'
import { githubStylePush, otherEvent } from './push.ts'
import { header, type Provider } from './types.ts'

// GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`, keyed with the
// webhook's secret; `X-GitHub-Event` names the event, `X-GitHub-Delivery` is its id.
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries

export const github: Provider = {
  credentialHeader: 'x-hub-signature-256',
  authenticate(req) {
    const sent = header(req.headers, 'x-hub-signature-256')
    const hex = sent?.startsWith('sha256=') ? sent.slice('sha256='.length) : undefined
    return sameHmac(hex, req.secret, req.body)
      ? { ok: true }
      : { ok: false, message: 'x-hub-signature-256 does not match the body and the hook secret' }
  },
  events(req, data) {
    const name = header(req.headers, 'x-github-event') ?? 'unknown'
    if (name === 'push') return [githubStylePush('github', object(data, '(root)'))]
    return [otherEvent('github', name, req.body, data)]
  },
}
