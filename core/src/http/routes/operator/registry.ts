import { type Publisher, type RegistryAction, registryRoutes } from '@stavily/registry'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Services } from '../../../services/context.ts'
import { GitCredentials } from '../../../services/git-credentials.ts'
import { PluginNames } from '../../../services/plugin-names.ts'
import { auditMutation } from '../../audit-trail.ts'
import { operatorAuth } from '../../auth.ts'
import { operatorRateLimit } from '../../rate-limit.ts'

// The registry's own routes under /api/v1/registry, with operator tokens: reading the
// catalog needs a viewer, publishing and yanking an operator. The TUF files stay public:
// agents fetch them with no API token, and TUF's signatures, not the transport, are what
// they trust. Publishes and yanks that succeed go on the publishing token's audit log.
// A plugin name belongs to the organization that first published it (plugin-names.ts).

const ROLE_OF: Record<RegistryAction, 'operator'> = { publish: 'operator', yank: 'operator' }

export function registryMount(services: Services) {
  const viewer = operatorAuth(services, 'viewer')
  const operator = operatorAuth(services, 'operator')
  const limit = operatorRateLimit(services.fleet, services.tuning)
  return async (app: FastifyInstance): Promise<void> => {
    // Authorization before the body is read or validated (a publish without a token is a
    // 401, never a 400 about its body); the registry's own authorize then finds it done.
    app.addHook('onRequest', async (req) => {
      if (!isTuf(req)) await limit(req)
      if (req.method === 'GET' && !isTuf(req)) await viewer(req)
      else if (req.method !== 'GET' && req.method !== 'HEAD') await operator(req)
    })
    // onSend, not onResponse: the entry exists by the time the client has its answer.
    app.addHook('onSend', async (req, reply, payload) => {
      if (req.method !== 'POST' || !req.principal || reply.statusCode >= 300) return payload
      try {
        if (req.url.includes('/yank')) {
          const p = req.params as { name: string; version: string }
          await auditMutation(
            services,
            req,
            'plugin.yanked',
            { type: 'plugin', id: `${p.name}@${p.version}` },
            {
              reason: (req.body as { reason?: string } | null)?.reason ?? null,
            },
          )
        } else {
          const b = req.body as { repo: string; ref: string; path?: string }
          if (/application\/x-ndjson/.test(req.headers.accept ?? '')) {
            // A streamed publish answers 200 before it ends; its last line says how it ended.
            await auditMutation(
              services,
              req,
              'plugin.publish_started',
              { type: 'repository', id: b.repo },
              {
                ref: b.ref,
                path: b.path ?? '',
              },
            )
          } else if (reply.statusCode === 201 && typeof payload === 'string') {
            // 200 is "this exact build was already published": nothing changed.
            const v = (JSON.parse(payload) as { version: { name: string; version: string; digest: string } })
              .version
            await auditMutation(
              services,
              req,
              'plugin.published',
              { type: 'plugin', id: `${v.name}@${v.version}` },
              {
                repo: b.repo,
                ref: b.ref,
                digest: v.digest,
              },
            )
          }
        }
      } catch (err) {
        req.log.error({ err }, 'audit entry of a registry change failed')
      }
      return payload
    })
    const names = new PluginNames(services.db)
    const credentials = new GitCredentials(services.secrets)
    await app.register(registryRoutes, {
      registry: services.registry,
      // A publish acts for the token's organization: with its own Git credentials only, and
      // on names it owns (or takes by publishing first); a yank only on names it owns.
      authorize: async (req: FastifyRequest, action: RegistryAction): Promise<Publisher | undefined> => {
        await operatorAuth(services, ROLE_OF[action])(req)
        const org = req.principal!.orgId
        if (action === 'yank') {
          await names.check(org, (req.params as { name: string }).name)
          return undefined
        }
        return {
          credentials: await credentials.forPublish(org),
          names: {
            check: (name, sql) => names.check(org, name, sql),
            claim: (name, tx) => names.claim(org, name, tx),
          },
        }
      },
    })
  }
}

function isTuf(req: FastifyRequest): boolean {
  return /\/registry\/tuf\//.test(req.url)
}
