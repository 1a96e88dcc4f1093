import { Type } from 'typebox'
import { SECRET_NAME } from '../../secrets/policy.ts'
import { PageOf } from './pagination.ts'

// Secrets are write-only: the API takes values and answers with names and times only.

export const SecretParams = Type.Object(
  {
    name: Type.String({
      pattern: SECRET_NAME.source,
      description: 'letters, digits and "_", not starting with a digit (e.g. SLACK_TOKEN)',
    }),
  },
  { additionalProperties: false },
)

export const SetSecretBody = Type.Object(
  { value: Type.String({ minLength: 1, description: 'the secret value; never returned' }) },
  { additionalProperties: false },
)

export const SecretInfo = Type.Object({
  name: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
})

export const SecretList = PageOf(SecretInfo)

export const SecretWritten = Type.Object({ name: Type.String(), created: Type.Boolean() })
export const SecretDeleted = Type.Object({ name: Type.String(), deleted: Type.Literal(true) })
