import { Type } from 'typebox'
import { Kind, Labels, Pool, Uuid } from './common.ts'
import { PageOf } from './pagination.ts'

export const AgentReply = Type.Object({
  id: Uuid,
  name: Type.String(),
  kind: Kind,
  pool: Pool,
  labels: Labels,
  version: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({ description: 'online, lost or revoked' }),
  drain: Type.Boolean(),
  lastSeenAt: Type.String(),
  online: Type.Boolean({ description: 'status online and a heartbeat within the lost-after window' }),
  loadedPlugins: Type.Union(
    [Type.Array(Type.Object({ name: Type.String(), version: Type.String() })), Type.Null()],
    {
      description:
        'the plugins the agent reported loaded with its last heartbeat, by name; null: never reported (an older agent)',
    },
  ),
})

export const AgentList = PageOf(AgentReply)

export const DrainBody = Type.Object({ drain: Type.Boolean() }, { additionalProperties: false })
