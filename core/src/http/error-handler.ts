import { isRegistryError } from '@stavily/registry'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { raceError } from '../db/sql-errors.ts'
import { isStavilyError } from '../errors.ts'

// The one place errors become HTTP answers: { error: { code, message, field? } }.
// Stavily errors carry their status; Fastify's own request errors (bad JSON, too large,
// wrong content type) are mapped to Stavily codes; a database error a race causes (a write
// whose organization a forced delete removed meanwhile) is mapped by db/sql-errors.ts;
// anything else is a 500 without details.

const FASTIFY_CODES: Record<string, { code: string; status: number; message?: string; field?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'STAVILY_ERR_BODY_TOO_LARGE',
    status: 413,
    message: 'body: larger than the limit',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'STAVILY_ERR_UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    message: 'content-type: expected application/json',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'STAVILY_ERR_MALFORMED_BODY',
    status: 400,
    message: 'body: empty, expected a JSON object',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'STAVILY_ERR_MALFORMED_BODY', status: 400 },
  // A malformed percent-escape in the path (`%E0%A4%A`): the router cannot decode it.
  FST_ERR_BAD_URL: {
    code: 'STAVILY_ERR_VALIDATION',
    status: 400,
    message: 'path: not a valid URL (a malformed percent-escape)',
    field: 'path',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'STAVILY_ERR_MALFORMED_BODY',
    status: 400,
    message: 'content-length: does not match the body',
  },
}

/**
 * Fastify's router errors, which never reach the error handler: a path with a malformed
 * percent-escape is a 400 in the same shape as every other refusal.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const mapped = (err.code ? FASTIFY_CODES[err.code] : undefined) ?? FASTIFY_CODES.FST_ERR_BAD_URL!
  void reply.code(mapped.status).send({
    error: { code: mapped.code, message: mapped.message, field: mapped.field ?? 'path' },
  })
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((raw: FastifyError, req, reply) => {
    const raced = raceError(raw)
    // An organization deleted mid-request is the known race; any other vanished reference
    // may as well be a bug that wrote a row without its parent, so it is logged as a warning.
    if (raced?.code === 'STAVILY_ERR_UNAUTHENTICATED')
      req.log.info({ err: raw }, 'a write lost a race with a delete')
    else if (raced)
      req.log.warn({ err: raw }, 'a write referenced a row that does not exist (a race, or a bug)')
    const err = (raced ?? raw) as FastifyError
    if (isStavilyError(err) || isRegistryError(err)) {
      const field = err.data?.field
      // Every problem of an invalid workflow document, with its line and field, for the CLI.
      const issues = Array.isArray(err.data?.issues) ? { issues: err.data.issues } : {}
      if (err.code === 'STAVILY_ERR_RATE_LIMITED' && typeof err.data?.retryAfterSeconds === 'number') {
        void reply.header('retry-after', String(err.data.retryAfterSeconds))
      }
      if (err.statusCode === 500) {
        req.log.error({ err }, 'internal error')
        return reply.code(err.statusCode).send({ error: { code: err.code, message: 'internal error' } })
      }
      return reply.code(err.statusCode).send({
        error: {
          code: err.code,
          message: err.message,
          ...(typeof field === 'string' ? { field } : {}),
          ...issues,
        },
      })
    }
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined
    if (mapped) {
      return reply.code(mapped.status).send({
        error: {
          code: mapped.code,
          message: mapped.message ?? `body: not valid JSON (${err.message})`,
          field: mapped.field ?? 'body',
        },
      })
    }
    // A JSON syntax error from the body parser arrives as a SyntaxError with a 400 status.
    if (err instanceof SyntaxError || (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)) {
      return reply.code(err.statusCode && err.statusCode < 500 ? err.statusCode : 400).send({
        error: { code: 'STAVILY_ERR_MALFORMED_BODY', message: `body: ${err.message}`, field: 'body' },
      })
    }
    req.log.error({ err }, 'internal error')
    return reply.code(500).send({ error: { code: 'STAVILY_ERR_INTERNAL', message: 'internal error' } })
  })
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: {
        code: 'STAVILY_ERR_ROUTE_NOT_FOUND',
        message: `${req.method} ${req.url.split('?')[0]}: no such route`,
      },
    }),
  )
}
