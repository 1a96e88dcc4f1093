import { object, optionalText, text } from './body-shape.ts'
import { sameSecret } from './compare.ts'
import { commitsFrom, otherEvent, pushEvent } from './push.ts'
import { header, type Provider } from './types.ts'

// GitLab sends the webhook's secret token itself in `X-Gitlab-Token` (no signature: use
// HTTPS); `X-Gitlab-Event` names the event ("Push Hook", "Tag Push Hook", …) and
// `X-Gitlab-Event-UUID` identifies the delivery.
// https://docs.gitlab.com/user/project/integrations/webhooks/

export const gitlab: Provider = {
  credentialHeader: 'x-gitlab-token',
  authenticate(req) {
    return sameSecret(header(req.headers, 'x-gitlab-token'), req.secret)
      ? { ok: true }
      : { ok: false, message: 'x-gitlab-token is not the hook secret' }
  },
  events(req, data) {
    const body = object(data, '(root)')
    const kind = body.object_kind
    if (kind === 'push' || kind === 'tag_push') {
      const project = object(body.project, 'project')
      return [
        pushEvent({
          provider: 'gitlab',
          repository: text(project.path_with_namespace, 'project.path_with_namespace'),
          url: optionalText(project.git_http_url, 'project.git_http_url'),
          ref: text(body.ref, 'ref'),
          before: text(body.before, 'before'),
          after: text(body.after, 'after'),
          pusher: {
            name: optionalText(body.user_name, 'user_name'),
            email: optionalText(body.user_email, 'user_email'),
          },
          commits: commitsFrom(body.commits, 'commits'),
        }),
      ]
    }
    const name = typeof kind === 'string' ? kind : (header(req.headers, 'x-gitlab-event') ?? 'unknown')
    return [otherEvent('gitlab', name, req.body, data)]
  },
}
