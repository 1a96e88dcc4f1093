import { Type } from 'typebox'

// Route schemas (TypeBox → JSON Schema): they validate requests, shape responses and give
// the orchestrator's @fastify/swagger its OpenAPI document.

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable STAVILY_ERR_* code' }),
    message: Type.String(),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'RegistryError' },
)

// An entry "$granted" (net also "$granted:443", "https://$granted") leaves the targets to the
// operator: the plugin gets exactly what an agent grants it.
const Permissions = Type.Object({
  net: Type.Array(Type.String()),
  exec: Type.Array(Type.String()),
  secrets: Type.Array(Type.String()),
  fs: Type.Object({ read: Type.Array(Type.String()), write: Type.Array(Type.String()) }),
  // Only when the manifest declares it (exec environment names); a response drops what its schema lacks.
  env: Type.Optional(Type.Array(Type.String())),
  // PostgreSQL connections and SMTP relays by the operator's names, when declared.
  sql: Type.Optional(Type.Array(Type.String())),
  smtp: Type.Optional(Type.Array(Type.String())),
})

const Kind = Type.Union([Type.Literal('sensor'), Type.Literal('action'), Type.Literal('output')])

export const PluginVersionBody = Type.Object({
  name: Type.String(),
  version: Type.String(),
  kind: Kind,
  digest: Type.String({ description: 'sha256:<hex> of the bundle' }),
  size: Type.Integer(),
  sdk: Type.String({ description: 'SDK API range the plugin was written for' }),
  permissions: Permissions,
  provenance: Type.Object({
    repository: Type.String(),
    ref: Type.String(),
    commit: Type.String(),
    path: Type.String(),
    builder: Type.String(),
    builtAt: Type.String({ format: 'date-time' }),
  }),
  publishedAt: Type.String({ format: 'date-time' }),
  yanked: Type.Boolean(),
  yankedAt: Type.Optional(Type.String({ format: 'date-time' })),
  yankReason: Type.Optional(Type.String()),
})

export const PluginSummaryBody = Type.Object({
  name: Type.String(),
  kind: Kind,
  description: Type.String(),
  repository: Type.String(),
  latest: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
})

export const NameParams = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: 214,
    description: 'Plugin name, URL-encoded (%40acme%2Frestart)',
  }),
})

export const VersionParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 214 }),
  version: Type.String({ minLength: 1, maxLength: 256 }),
})

export const ListQuery = Type.Object({
  query: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  // Bounded like a PostgreSQL integer: an offset past bigint's range was a 500.
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647 })),
})

export const ResolveQuery = Type.Object({
  range: Type.String({ minLength: 1, maxLength: 256, description: 'semver range, e.g. ^1.2.0' }),
  prerelease: Type.Optional(Type.Boolean({ description: 'let prereleases match' })),
})

export const PublishBody = Type.Object(
  {
    repo: Type.String({ minLength: 1, maxLength: 2048, description: 'Git URL' }),
    ref: Type.String({ minLength: 1, maxLength: 255, description: 'tag, branch or full commit SHA' }),
    path: Type.Optional(Type.String({ maxLength: 1024, description: 'sub-folder holding the plugin' })),
  },
  { additionalProperties: false },
)

export const PublishResponse = Type.Object({
  status: Type.Union([Type.Literal('published'), Type.Literal('unchanged')]),
  version: PluginVersionBody,
  timings: Type.Object({
    cloneMs: Type.Number(),
    installMs: Type.Number(),
    buildMs: Type.Number(),
    signMs: Type.Number(),
    totalMs: Type.Number(),
  }),
})

export const YankBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false },
)

export const MetadataParams = Type.Object({
  file: Type.String({
    maxLength: 64,
    description: 'N.root.json, timestamp.json, N.snapshot.json, N.targets.json',
  }),
})
