import { alertmanager } from './alertmanager.ts'
import { gitea } from './gitea.ts'
import { github } from './github.ts'
import { gitlab } from './gitlab.ts'
import { type Headers, header, type Provider, type ProviderRequest, type WebhookProvider } from './types.ts'

export type { ProviderEvent, WebhookProvider } from './types.ts'
export { WEBHOOK_PROVIDERS } from './types.ts'

// The senders other than Stavily's own signature (signature.ts), in the order a request's
// headers are recognised: Gitea also sends GitHub's header, so it is looked for first.
const PROVIDERS: [Exclude<WebhookProvider, 'stavily'>, Provider][] = [
  ['gitea', gitea],
  ['github', github],
  ['gitlab', gitlab],
  ['alertmanager', alertmanager],
]

const offers = (headers: Headers, name: string, p: Provider) =>
  header(headers, p.credentialHeader) !== undefined ||
  (name === 'gitea' && header(headers, 'x-forgejo-signature') !== undefined)

/** Whether the request carries any provider's credential header (Stavily's aside). */
export function offersProviderCredential(headers: Headers): boolean {
  return PROVIDERS.some(([name, p]) => offers(headers, name, p))
}

export type ProviderCheck =
  | { ok: true; provider: Provider; name: WebhookProvider }
  | { ok: false; message: string }

/**
 * Authenticates a request for a hook whose trigger names `expected` (undefined when there
 * is no such webhook hook). The provider checked is the hook's when the request carries its
 * header, else the first the request offers, with no secret: the work and the answer are
 * then those of a wrong credential, so a caller learns nothing of the hook.
 */
export function authenticateProvider(
  expected: WebhookProvider | undefined,
  req: ProviderRequest,
): ProviderCheck {
  const own = PROVIDERS.find(([name, p]) => name === expected && offers(req.headers, name, p))
  const [name, provider] = own ?? PROVIDERS.find(([n, p]) => offers(req.headers, n, p)) ?? PROVIDERS[0]!
  const check = provider.authenticate(own ? req : { ...req, secret: undefined })
  if (!check.ok || !own)
    return { ok: false, message: 'the request does not verify against this hook and its webhook secret' }
  return { ok: true, provider, name }
}
