import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { LIMITS } from '../../../defaults.ts'
import { StavilyError } from '../../../errors.ts'
import type { Services } from '../../../services/context.ts'
import { GitCredentials } from '../../../services/git-credentials.ts'
import { PluginNames } from '../../../services/plugin-names.ts'
import { auditMutation } from '../../audit-trail.ts'
import { DEFAULT_LIMIT, decodeCursor, encodeCursor } from '../../pagination.ts'
import { actorOf, orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses, INT4_MAX } from '../../schemas/common.ts'
import * as S from '../../schemas/plugins.ts'

// Plugins: search the registry with what the organization enabled where; enable a plugin
// in a pool at a range (pin = exact version); disable it. Publishing and yanking live in
// the registry routes (/api/v1/registry). A name's owner can transfer it; each organization
// keeps its own Git credentials for publishing.

// Bounded like the registry's own offset (a PostgreSQL integer): a cursor is caller text.
const isOffset = (v: unknown): v is number =>
  Number.isInteger(v) && (v as number) > 0 && (v as number) <= INT4_MAX

export function pluginRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const catalog = services.catalog
    const names = new PluginNames(services.db)
    const credentials = new GitCredentials(services.secrets)
    const tags = ['plugins']

    app.get(
      '/plugins',
      {
        ...role.viewer,
        schema: {
          tags,
          summary: 'Search the registry; each plugin says where it is enabled',
          querystring: S.PluginQuery,
          response: { 200: S.PluginList, ...errorResponses },
        },
      },
      async (req) => {
        const limit = Math.min(req.query.limit ?? DEFAULT_LIMIT, LIMITS.registryPageMax - 1)
        const offset = decodeCursor(req.query.cursor, isOffset) ?? 0
        const org = orgOf(req)
        const [found, enabled] = await Promise.all([
          catalog.search(org, { ...(req.query.q ? { query: req.query.q } : {}), limit: limit + 1, offset }),
          catalog.enabled(org),
        ])
        return {
          items: found.slice(0, limit),
          nextCursor: found.length > limit ? encodeCursor(offset + limit) : null,
          enabled,
        }
      },
    )

    app.post(
      '/plugins/enable',
      {
        ...role.operator,
        schema: {
          tags,
          summary:
            'Enable a plugin in a pool at the newest version a range allows (an exact version pins it)',
          body: S.EnableBody,
          response: { 200: S.EnableReply, ...errorResponses },
        },
      },
      async (req) => {
        const e = await catalog.enable(orgOf(req), req.body, actorOf(req))
        return { name: e.name, pool: e.pool, range: e.range, version: e.version, digest: e.digest }
      },
    )

    app.post(
      '/plugins/transfer',
      {
        ...role.admin,
        schema: {
          tags,
          summary: 'Hand a plugin name this organization owns to another organization (admin)',
          description:
            'A plugin name belongs to the organization that first published it: only it may publish or yank versions. The receiving organization is given by id or name.',
          body: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: LIMITS.pluginNameMax }),
              to: Type.String({ minLength: 1, maxLength: 200, description: 'organization id or name' }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              name: Type.String(),
              to: Type.Object({ id: Type.String(), name: Type.String() }),
            }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const org = orgOf(req)
        return services.db.sql.transaction(async (tx) => {
          const to = await names.transfer(org, req.body.name, req.body.to, tx)
          await auditMutation(
            services,
            req,
            'plugin.transferred',
            { type: 'plugin', id: req.body.name },
            { to: to.orgId },
            tx,
          )
          await services.audit.record(
            {
              org: to.orgId,
              actor: { type: 'api_token', id: req.principal!.tokenId },
              action: 'plugin.received',
              target: { type: 'plugin', id: req.body.name },
              data: { from: org },
              ip: req.ip,
            },
            tx,
          )
          return { name: req.body.name, to: { id: to.orgId, name: to.orgName } }
        })
      },
    )

    const HostParams = Type.Object({
      host: Type.String({
        minLength: 1,
        maxLength: 260,
        description: 'git.example.com or git.example.com:8443',
      }),
    })
    const CredentialInfo = Type.Object({
      host: Type.String(),
      username: Type.Union([Type.String(), Type.Null()]),
      kind: Type.Union([Type.Literal('token'), Type.Literal('password')]),
      updatedAt: Type.String(),
    })

    app.get(
      '/plugins/git-credentials',
      {
        ...role.operator,
        schema: {
          tags,
          summary: "The organization's Git credentials for publishing (hosts and user names, never secrets)",
          response: { 200: Type.Object({ items: Type.Array(CredentialInfo) }), ...errorResponses },
        },
      },
      async (req) => ({ items: await credentials.list(orgOf(req)) }),
    )

    app.put(
      '/plugins/git-credentials/:host',
      {
        ...role.operator,
        schema: {
          tags,
          summary: "Set the organization's Git credential for a host (201 created, 200 replaced)",
          description:
            'Used only for publishes by this organization, stored as an organization secret. Give a token (sent as the basic-auth password, user x-access-token unless username is set) or a username and password.',
          params: HostParams,
          body: Type.Object(
            {
              username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
              token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
              password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ host: Type.String(), created: Type.Boolean() }),
            201: Type.Object({ host: Type.String(), created: Type.Boolean() }),
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const { created, host } = await credentials.set(orgOf(req), req.params.host, req.body)
        await auditMutation(services, req, created ? 'git_credential.created' : 'git_credential.updated', {
          type: 'git_credential',
          id: host,
        })
        return reply.code(created ? 201 : 200).send({ host, created })
      },
    )

    app.delete(
      '/plugins/git-credentials/:host',
      {
        ...role.operator,
        schema: {
          tags,
          summary: "Remove the organization's Git credential for a host",
          params: HostParams,
          response: {
            200: Type.Object({ host: Type.String(), deleted: Type.Literal(true) }),
            ...errorResponses,
          },
        },
      },
      async (req) => {
        const host = req.params.host.toLowerCase()
        if (!(await credentials.remove(orgOf(req), host)))
          throw new StavilyError('STAVILY_ERR_NOT_FOUND', `host: no Git credential for ${host}`, {
            data: { field: 'params.host' },
          })
        await auditMutation(services, req, 'git_credential.deleted', { type: 'git_credential', id: host })
        return { host, deleted: true as const }
      },
    )

    app.post(
      '/plugins/disable',
      {
        ...role.operator,
        schema: {
          tags,
          summary: "Remove a plugin from a pool's desired set",
          body: S.DisableBody,
          response: { 200: S.DisableReply, ...errorResponses },
        },
      },
      async (req) => {
        const d = await catalog.disable(orgOf(req), req.body, actorOf(req))
        return { name: d.name, pool: d.pool, disabled: true as const }
      },
    )
  }
}
