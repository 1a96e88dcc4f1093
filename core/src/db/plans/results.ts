import type { Statement } from '../sql-client.ts'

/** The log lines of every reported attempt of these instructions, oldest attempt first. */
export const resultLogs = (instructionIds: readonly string[]): Statement => ({
  text: `SELECT instruction_id AS "instructionId", attempt, agent_id AS "agentId", logs
    FROM results WHERE instruction_id = ANY($1::uuid[]) ORDER BY instruction_id, attempt`,
  values: [instructionIds],
})
