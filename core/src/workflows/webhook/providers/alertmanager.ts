import { list, object, optionalText, stringMap, text } from './body-shape.ts'
import { sameSecret } from './compare.ts'
import { header, type Provider, type ProviderEvent } from './types.ts'

// Prometheus Alertmanager's webhook receiver (webhook_config). Alertmanager cannot sign a
// body; it can send `Authorization: Bearer <credentials>` (http_config.authorization) or
// basic auth (http_config.basic_auth: the password is checked, any user name). One event
// per alert, so each alert starts (or, filtered, does not start) its own run.
// https://prometheus.io/docs/alerting/latest/configuration/#webhook_config

/** Alertmanager's own cap is max_alerts (0 = all); a group rarely holds this many. */
const MAX_ALERTS = 1000

function credential(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined
  const [scheme, value] = authorization.split(' ', 2)
  if (!value) return undefined
  if (scheme?.toLowerCase() === 'bearer') return value
  if (scheme?.toLowerCase() !== 'basic') return undefined
  const decoded = Buffer.from(value, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : decoded.slice(colon + 1)
}

export const alertmanager: Provider = {
  credentialHeader: 'authorization',
  authenticate(req) {
    return sameSecret(credential(header(req.headers, 'authorization')), req.secret)
      ? { ok: true }
      : {
          ok: false,
          message: 'authorization: expected the hook secret as a bearer token or basic-auth password',
        }
  },
  events(_req, data) {
    const body = object(data, '(root)')
    const group = {
      receiver: optionalText(body.receiver, 'receiver'),
      groupKey: optionalText(body.groupKey, 'groupKey'),
      externalURL: optionalText(body.externalURL, 'externalURL'),
    }
    return list(body.alerts, 'alerts', MAX_ALERTS).map((a, i): ProviderEvent => {
      const alert = object(a, `alerts.${i}`)
      const status = text(alert.status, `alerts.${i}.status`)
      const fingerprint = text(alert.fingerprint, `alerts.${i}.fingerprint`)
      const startsAt = text(alert.startsAt, `alerts.${i}.startsAt`)
      return {
        source: 'alertmanager',
        type: 'alert',
        data: {
          status,
          labels: stringMap(alert.labels, `alerts.${i}.labels`),
          annotations: stringMap(alert.annotations, `alerts.${i}.annotations`),
          startsAt,
          endsAt: optionalText(alert.endsAt, `alerts.${i}.endsAt`),
          generatorURL: optionalText(alert.generatorURL, `alerts.${i}.generatorURL`),
          fingerprint,
          ...group,
        },
        // Alertmanager re-sends a firing alert every repeat_interval: one run per firing
        // (fingerprint and start) and one per resolution.
        dedupeKey: `alert:${fingerprint}:${status}:${startsAt}`,
        occurredAt:
          status === 'resolved' ? (optionalText(alert.endsAt, `alerts.${i}.endsAt`) ?? startsAt) : startsAt,
      }
    })
  },
}
