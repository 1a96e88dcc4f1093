import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isRegistryError } from '../errors.ts'

// Maps every error of the registry's routes to a status and `{ code, message, data? }`.
// Bad input is always a 4xx naming the field; an unexpected failure is a 500 without details.

/** Status and body for an error raised while serving (also used inside streamed answers). */
export function errorAnswer(err: unknown): {
  status: number
  body: { code: string; message: string; data?: unknown }
} {
  if (isRegistryError(err)) {
    if (err.statusCode >= 500)
      return { status: err.statusCode, body: { code: err.code, message: 'the registry failed; see its log' } }
    return { status: err.statusCode, body: err.toJSON() }
  }
  return { status: 500, body: { code: 'STAVILY_ERR_REGISTRY_INTERNAL', message: 'internal error' } }
}

export function registryErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (isRegistryError(err)) {
    const { status, body } = errorAnswer(err)
    if (status >= 500) request.log.error({ err }, 'registry failure')
    reply.status(status).send(body)
    return
  }
  if (err.validation && err.validation.length > 0) {
    const first = err.validation[0]!
    const where = err.validationContext ?? 'request'
    const params = first.params as { missingProperty?: string; additionalProperty?: string }
    const path = [
      where,
      ...first.instancePath.split('/').filter((s) => s !== ''),
      ...(params.missingProperty ? [params.missingProperty] : []),
      ...(params.additionalProperty ? [params.additionalProperty] : []),
    ].join('.')
    reply.status(400).send({
      code: 'STAVILY_ERR_REGISTRY_INVALID_ARGUMENT',
      message: `${path}: ${first.message ?? 'is invalid'}`,
      data: { field: path },
    })
    return
  }
  // Errors with a 4xx status from the host (its authorize check) or Fastify (malformed JSON,
  // body too large) keep their status and code.
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500
  if (status >= 400 && status < 500) {
    reply
      .status(status)
      .send({ code: err.code ?? 'STAVILY_ERR_REGISTRY_INVALID_ARGUMENT', message: err.message })
    return
  }
  request.log.error({ err }, 'unexpected registry error')
  reply.status(500).send({ code: 'STAVILY_ERR_REGISTRY_INTERNAL', message: 'internal error' })
}
