import { findWireProblem } from '@stavily/protocol'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { StavilyError } from '../errors.ts'
import { findJsonTextProblem } from './json-body.ts'

// The one boundary policy for values that enter through HTTP, on every route of both APIs
// and the registry's routes, applied before any schema or handler sees a value:
// - a JSON body must be valid UTF-8, without duplicate keys, nested at most 64 levels
//   (json-body.ts), and within the body limit (Fastify's bodyLimit, 413);
// - no string or key anywhere in the body, the query or the path parameters may hold a
//   NUL or a lone surrogate (PostgreSQL cannot store them): `findWireProblem`, the same
//   rule the agent applies to what it reports.
// Each refusal is a 400 naming the field (`body.events[0].data.x`). Integer fields are
// bounded by their schemas (their column's range), so no number reaches SQL out of range.

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

function refuse(field: string, message: string): StavilyError {
  return new StavilyError('STAVILY_ERR_VALIDATION', `${field}: ${message}`, { data: { field } })
}

/** Replaces the JSON parser of `app` (and the plugins registered in it after this call). */
export function installJsonBody(app: FastifyInstance): void {
  // Fastify's own parser keeps its prototype-poisoning checks; this one runs them on the text.
  const parse = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string
    try {
      text = utf8.decode(body as Buffer)
    } catch {
      done(refuse('body', 'not valid UTF-8'), undefined)
      return
    }
    const problem = findJsonTextProblem(text)
    if (problem) {
      done(refuse(problem.path, problem.message), undefined)
      return
    }
    parse(req, text, done)
  })
}

/**
 * The same checks for a route that keeps its raw body and parses it itself (webhooks,
 * whose signature covers the exact bytes): valid UTF-8, no duplicate key, 64 levels.
 */
export function jsonFromBytes(bytes: Buffer): unknown {
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw refuse('body', 'not valid UTF-8')
  }
  const problem = findJsonTextProblem(text)
  if (problem) throw refuse(problem.path, problem.message)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new StavilyError('STAVILY_ERR_MALFORMED_BODY', `body: not valid JSON (${(err as Error).message})`, {
      data: { field: 'body' },
    })
  }
}

/** A preValidation hook: the wire rule on the body, the query and the path parameters. */
export async function checkWireValues(req: FastifyRequest): Promise<void> {
  for (const [part, value] of [
    ['params', req.params],
    ['query', req.query],
    ['body', req.body],
  ] as const) {
    const problem = findWireProblem(value, part)
    if (problem) throw refuse(problem.path, problem.message)
  }
}
