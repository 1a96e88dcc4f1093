import { PassThrough } from 'node:stream'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Registry } from '../registry.ts'
import type { Publisher } from '../types.ts'
import { errorAnswer, registryErrorHandler } from './error-handler.ts'
import {
  ErrorBody,
  ListQuery,
  MetadataParams,
  NameParams,
  PluginSummaryBody,
  PluginVersionBody,
  PublishBody,
  PublishResponse,
  ResolveQuery,
  VersionParams,
  YankBody,
} from './schemas.ts'

// The registry over HTTP, as a Fastify plugin the orchestrator mounts under a prefix:
//   GET  /plugins                                   list / search
//   GET  /plugins/:name/versions                    versions, newest first
//   GET  /plugins/:name/versions/:version           one version with provenance
//   GET  /plugins/:name/versions/:version/artifact  the bundle (yanked ones too)
//   GET  /plugins/:name/resolve?range=              highest non-yanked match
//   POST /plugins                                   publish        (authorize 'publish')
//   POST /plugins/:name/versions/:version/yank      yank           (authorize 'yank')
//   GET  /tuf/:file, /tuf/targets/*                 TUF metadata and targets for agents
// Scoped names travel URL-encoded in one path segment: /plugins/%40acme%2Frestart/versions.

export type RegistryAction = 'publish' | 'yank'

export interface RegistryRoutesOptions {
  registry: Registry
  /**
   * Rejects (with a 401/403 error) unless the request may perform `action`. For a publish it
   * may answer who publishes (their credentials and name ownership), which the publish uses.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: authorizers that only check (Promise<void>) stay valid
  authorize: (request: FastifyRequest, action: RegistryAction) => Promise<Publisher | undefined | void>
}

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  422: ErrorBody,
}

export const registryRoutes: FastifyPluginAsync<RegistryRoutesOptions> = async (fastify, opts) => {
  if (!opts?.registry || typeof opts.authorize !== 'function')
    throw new TypeError('registryRoutes: options { registry, authorize } are required')
  const { registry, authorize } = opts
  // What authorize said about a publish request, handed from the preHandler to the handler.
  const publishers = new WeakMap<FastifyRequest, Publisher | undefined>()
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(registryErrorHandler)
  const tags = ['registry']

  app.get(
    '/plugins',
    {
      schema: {
        tags,
        summary: 'List or search plugins',
        querystring: ListQuery,
        response: { 200: Type.Object({ plugins: Type.Array(PluginSummaryBody) }), ...errors },
      },
    },
    async (req) => ({ plugins: await registry.list(req.query) }),
  )

  app.get(
    '/plugins/:name/versions',
    {
      schema: {
        tags,
        summary: 'Versions of a plugin, newest first (yanked ones flagged)',
        params: NameParams,
        response: { 200: Type.Object({ versions: Type.Array(PluginVersionBody) }), ...errors },
      },
    },
    async (req) => ({ versions: await registry.versions(req.params.name) }),
  )

  app.get(
    '/plugins/:name/versions/:version',
    {
      schema: {
        tags,
        summary: 'One version with its provenance',
        params: VersionParams,
        response: { 200: PluginVersionBody, ...errors },
      },
    },
    async (req) => registry.version(req.params.name, req.params.version),
  )

  app.get(
    '/plugins/:name/versions/:version/artifact',
    {
      schema: {
        tags,
        summary: 'Download the bundle of a version (yanked versions too); verify it with TUF before use',
        params: VersionParams,
        response: { 200: Type.Unknown({ description: 'application/javascript' }), ...errors },
      },
    },
    async (req, reply) => {
      const { bytes, version } = await registry.getArtifact(req.params.name, req.params.version)
      return reply
        .type('application/javascript; charset=utf-8')
        .header('x-stavily-digest', version.digest)
        .header('etag', `"${version.digest}"`)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(Buffer.from(bytes))
    },
  )

  app.get(
    '/plugins/:name/resolve',
    {
      schema: {
        tags,
        summary: 'Resolve a semver range to the highest non-yanked version',
        params: NameParams,
        querystring: ResolveQuery,
        response: { 200: PluginVersionBody, ...errors },
      },
    },
    async (req) =>
      registry.resolve(req.params.name, req.query.range, req.query.prerelease ? { prerelease: true } : {}),
  )

  app.post(
    '/plugins',
    {
      preHandler: async (req) => {
        publishers.set(req, (await authorize(req, 'publish')) ?? undefined)
      },
      schema: {
        tags,
        summary: 'Publish a plugin version from a Git repository',
        description:
          'Answers 201 with the version (200 when this exact build was already published). With `Accept: application/x-ndjson` it streams one JSON object per line: progress lines, then a result or an error line.',
        body: PublishBody,
        response: { 200: PublishResponse, 201: PublishResponse, ...errors },
      },
    },
    async (req, reply) => {
      const publisher = publishers.get(req)
      const who = publisher ? { publisher } : {}
      if (!/application\/x-ndjson/.test(req.headers.accept ?? '')) {
        const result = await registry.publish(req.body, who)
        return reply.status(result.status === 'published' ? 201 : 200).send(result)
      }
      // Progress for the CLI: one JSON object per line ({type: progress|result|error}), so a
      // slow clone or install shows as it happens. The status is 200 once streaming starts;
      // the last line says how it ended.
      const stream = new PassThrough()
      const line = (o: object) => stream.write(`${JSON.stringify(o)}\n`)
      registry
        .publish(req.body, { ...who, onProgress: (p) => line({ type: 'progress', ...p }) })
        .then((result) => line({ type: 'result', ...result }))
        .catch((err: unknown) => {
          const { status, body } = errorAnswer(err)
          if (status >= 500) req.log.error({ err }, 'publish failed')
          line({ type: 'error', status, ...body })
        })
        .finally(() => stream.end())
      return reply.type('application/x-ndjson').send(stream as never)
    },
  )

  app.post(
    '/plugins/:name/versions/:version/yank',
    {
      preHandler: async (req) => authorize(req, 'yank'),
      schema: {
        tags,
        summary: 'Yank a version: hidden from range resolution, still downloadable by exact version',
        params: VersionParams,
        body: Type.Union([YankBody, Type.Null()]),
        response: { 200: PluginVersionBody, ...errors },
      },
    },
    async (req) =>
      registry.yank(req.params.name, req.params.version, req.body?.reason ? { reason: req.body.reason } : {}),
  )

  app.get(
    '/tuf/:file',
    {
      schema: {
        tags,
        summary: 'TUF metadata (consistent snapshots)',
        params: MetadataParams,
        response: { 200: Type.Unknown({ description: 'application/json' }), 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const body = await registry.metadata(req.params.file)
      if (body === undefined)
        return reply.status(404).send({
          code: 'STAVILY_ERR_REGISTRY_METADATA_NOT_FOUND',
          message: `file: no metadata named ${req.params.file}`,
        })
      // Versioned files never change; timestamp.json (and the unversioned aliases) always may.
      const versioned = /^\d+\./.test(req.params.file)
      return reply
        .type('application/json')
        .header('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'no-cache')
        .send(body)
    },
  )

  app.get(
    '/tuf/targets/*',
    {
      schema: {
        tags,
        summary: 'TUF targets: plugin bundles under their digest',
        response: { 200: Type.Unknown({ description: 'application/javascript' }), 404: ErrorBody },
      },
    },
    async (req, reply) => {
      // Fastify has decoded the path once already; decoding it again would turn `%25E0`
      // into a URIError (a 500) and `%252e%252e` into `..`.
      const path = (req.params as { '*': string })['*']
      const found = await registry.target(path)
      if (!found)
        return reply
          .status(404)
          .send({ code: 'STAVILY_ERR_REGISTRY_ARTIFACT_NOT_FOUND', message: `no target at ${path}` })
      return reply
        .type('application/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .send(Buffer.from(found.bytes))
    },
  )
}
