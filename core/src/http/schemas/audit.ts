import { Type } from 'typebox'
import { BIGINT_SAFE_MAX, Json } from './common.ts'
import { PageQueryFields } from './pagination.ts'

export const AuditQuery = Type.Object(
  {
    ...PageQueryFields,
    afterSeq: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: BIGINT_SAFE_MAX,
        description: 'oldest first, the entries after this position (to follow the log); no cursor then',
      }),
    ),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'only this action' })),
  },
  { additionalProperties: false },
)

export const AuditEntry = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  actor: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  action: Type.String(),
  target: Type.Union([Type.Object({ type: Type.String(), id: Type.String() }), Type.Null()]),
  data: Json,
  ip: Type.Union([Type.String(), Type.Null()]),
  prevHash: Type.String(),
  hash: Type.String(),
})

export const AuditList = Type.Object({
  items: Type.Array(AuditEntry),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

export const AuditVerification = Type.Union([
  Type.Object({ ok: Type.Literal(true), entries: Type.Integer(), head: Type.String() }),
  Type.Object({
    ok: Type.Literal(false),
    entries: Type.Integer({ description: 'entries checked before the break' }),
    firstBroken: Type.Object({ seq: Type.Integer(), reason: Type.String(), message: Type.String() }),
  }),
])
