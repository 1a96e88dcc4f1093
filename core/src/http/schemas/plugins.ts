import { Type } from 'typebox'
import { LIMITS } from '../../defaults.ts'
import { Pool } from './common.ts'
import { PageQueryFields } from './pagination.ts'

const Name = Type.String({
  minLength: 1,
  maxLength: LIMITS.pluginNameMax,
  description: 'plugin (npm package) name, e.g. @acme/restart',
})

export const PluginQuery = Type.Object(
  { ...PageQueryFields, q: Type.Optional(Type.String({ maxLength: 200, description: 'search text' })) },
  { additionalProperties: false },
)

export const CatalogEntry = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  description: Type.String(),
  repository: Type.String(),
  latest: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String(),
  enabled: Type.Array(
    Type.Object({
      pool: Type.String(),
      version: Type.String(),
      range: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
})

export const EnabledPlugin = Type.Object({
  name: Type.String(),
  pool: Type.String(),
  range: Type.Union([Type.String(), Type.Null()], {
    description:
      'the range it was enabled at: a newer version published within it is rolled out to the pool (null: enabled before ranges were kept)',
  }),
  version: Type.String(),
  digest: Type.String(),
  updatedAt: Type.String(),
})

export const PluginList = Type.Object({
  items: Type.Array(CatalogEntry),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  enabled: Type.Array(EnabledPlugin, { description: 'every plugin enabled in the organization, per pool' }),
})

export const EnableBody = Type.Object(
  {
    name: Name,
    pool: Pool,
    range: Type.String({
      minLength: 1,
      maxLength: LIMITS.versionRangeMax,
      description: 'semver range (^1.2.0, ~1.2, 1.x); an exact version pins it',
    }),
  },
  { additionalProperties: false },
)

export const EnableReply = Type.Object({
  name: Type.String(),
  pool: Type.String(),
  range: Type.String(),
  version: Type.String({ description: 'the newest published, non-yanked version the range allows' }),
  digest: Type.String(),
})

export const DisableBody = Type.Object({ name: Name, pool: Pool }, { additionalProperties: false })

export const DisableReply = Type.Object({
  name: Type.String(),
  pool: Type.String(),
  disabled: Type.Literal(true),
})
