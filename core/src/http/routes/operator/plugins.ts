import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../../services/context.ts'
import { DEFAULT_LIMIT, decodeCursor, encodeCursor } from '../../pagination.ts'
import { actorOf, orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses } from '../../schemas/common.ts'
import * as S from '../../schemas/plugins.ts'

// Plugins: search the registry with what the organization enabled where; enable a plugin
// in a pool at a range (pin = exact version); disable it. Publishing and yanking live in
// the registry routes (/api/v1/registry).

const isOffset = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0
// The registry pages by offset and answers at most this many per call.
const REGISTRY_MAX = 200

export function pluginRoutes(services: Services, role: RoleGuards) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const catalog = services.catalog
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
        const limit = Math.min(req.query.limit ?? DEFAULT_LIMIT, REGISTRY_MAX - 1)
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
