import { Type } from 'typebox'
import { Json, Uuid } from './common.ts'
import { Priority } from './instructions.ts'

// A manual run: start a workflow now with a given event (the "API call" trigger).

export const ManualRunBody = Type.Object(
  {
    event: Type.Optional(
      Type.Object(
        {
          type: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 200,
              description:
                'always "manual": the platform sets a manual run\'s event type (any other value is refused); put your own fields under data',
            }),
          ),
          data: Type.Optional(Json),
        },
        { additionalProperties: false },
      ),
    ),
    priority: Type.Optional(Priority),
  },
  { additionalProperties: false },
)

export const ManualRunReply = Type.Object({
  run: Type.Union([
    Type.Object({
      id: Uuid,
      workflowId: Uuid,
      workflowVersion: Type.Integer(),
      status: Type.String(),
      priority: Type.Integer(),
      createdAt: Type.String(),
    }),
    Type.Null(),
  ]),
  reason: Type.Optional(
    Type.Literal('filtered', { description: "the workflow's filter is false for this event: no run" }),
  ),
})
