import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { orgOf, type RoleGuards } from '../../request-context.ts'
import { errorResponses } from '../../schemas/common.ts'

// GET /whoami: what the calling token may do, so a client (the dashboard) can show the role
// and hide what the role cannot do. The API still enforces every role on every route.

const WhoamiReply = Type.Object({
  tokenId: Type.String(),
  orgId: Type.String(),
  role: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')]),
  instanceAdmin: Type.Boolean({
    description: 'the instance admin token (the bootstrap token): it alone manages organizations',
  }),
})

export function whoamiRoutes(role: RoleGuards) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get(
      '/whoami',
      {
        ...role.viewer,
        schema: {
          tags: ['tokens'],
          summary: "The calling API token's id, organization, role and whether it is the instance admin",
          response: { 200: WhoamiReply, ...errorResponses },
        },
      },
      async (req) => ({
        tokenId: req.principal!.tokenId,
        orgId: orgOf(req),
        role: req.principal!.role,
        instanceAdmin: req.principal!.instanceAdmin,
      }),
    )
  }
}
