import { type TSchema, Type } from 'typebox'
import { MAX_LIMIT } from '../pagination.ts'

// The paging part of list queries, and the shape of every list answer.

export const PageQueryFields = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'items per page' })),
  cursor: Type.Optional(
    Type.String({ minLength: 1, maxLength: 1000, description: 'nextCursor of the page before' }),
  ),
}

export const PageQuery = Type.Object(PageQueryFields, { additionalProperties: false })

export function PageOf<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
  })
}
