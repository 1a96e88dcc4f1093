import { object } from './body-shape.ts'
import { sameHmac } from './compare.ts'
import { githubStylePush, otherEvent } from './push.ts'
import { header, type Provider } from './types.ts'

// Gitea and Forgejo: `X-Gitea-Signature` (Forgejo also sends `X-Forgejo-Signature`), the
// hex HMAC-SHA256 of the raw body with no prefix; `X-Gitea-Event` / `X-Forgejo-Event` and
// `X-Gitea-Delivery` / `X-Forgejo-Delivery`. The push body has GitHub's layout.

const either = (headers: Parameters<typeof header>[0], name: string) =>
  header(headers, `x-forgejo-${name}`) ?? header(headers, `x-gitea-${name}`)

export const gitea: Provider = {
  credentialHeader: 'x-gitea-signature',
  authenticate(req) {
    return sameHmac(either(req.headers, 'signature'), req.secret, req.body)
      ? { ok: true }
      : { ok: false, message: 'x-gitea-signature does not match the body and the hook secret' }
  },
  events(req, data) {
    const name = either(req.headers, 'event') ?? 'unknown'
    if (name === 'push') return [githubStylePush('gitea', object(data, '(root)'))]
    return [otherEvent('gitea', name, req.body, data)]
  },
}
