import { Type } from 'typebox'
import { LIMITS } from '../../defaults.ts'
import { Uuid } from './common.ts'

// Organizations (instance admin only).

const Name = Type.String({ minLength: 1, maxLength: LIMITS.organizationNameMax })

export const CreateOrganizationBody = Type.Object({ name: Name }, { additionalProperties: false })
export const RenameOrganizationBody = Type.Object({ name: Name }, { additionalProperties: false })
export const DeleteOrganizationQuery = Type.Object(
  {
    force: Type.Optional(
      Type.Boolean({ description: 'delete its agents, workflows, runs and secrets with it' }),
    ),
  },
  { additionalProperties: false },
)

export const OrganizationSummary = Type.Object({
  id: Uuid,
  name: Type.String(),
  createdAt: Type.String(),
  agents: Type.Integer({ description: 'agents that are not revoked' }),
  workflows: Type.Integer(),
})

export const CreatedOrganization = Type.Object({
  organization: OrganizationSummary,
  adminToken: Type.String({ description: "the new organization's first admin token; shown once" }),
})

export const DeletedOrganization = Type.Object({
  ...OrganizationSummary.properties,
  pluginNamesMoved: Type.Array(Type.String(), {
    description: "plugin names it owned, now owned by the deleting admin's organization",
  }),
})
