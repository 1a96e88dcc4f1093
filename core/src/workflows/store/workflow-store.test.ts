import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../../test/helpers/backends.ts'
import type { Database } from '../../db/sql-client.ts'
import { WorkflowError } from '../errors.ts'
import { WORKFLOWS_MIGRATION } from './migration.ts'
import {
  applyWorkflow,
  enabledWorkflows,
  getStoredWorkflow,
  getWorkflowVersion,
  listWorkflowSummaries,
  listWorkflowVersions,
  setWorkflowEnabled,
} from './workflow-store.ts'

const doc = (name: string, timeout = '1m', extra = '') => `# a comment
name: ${name}
${extra}trigger:
  webhook:
    secret: HOOK_KEY
actions:
  - id: restart
    plugin: "@stavily/plugin-systemd"
    version: ^1
    timeout: ${timeout}
`

async function openStore(open: () => Promise<Database>): Promise<Database> {
  const db = await open()
  await db.exec(WORKFLOWS_MIGRATION)
  return db
}

for (const backend of backends()) {
  describe(`workflow store on ${backend.name}`, () => {
    // Starting PGlite takes seconds on a busy machine: pay it in the hook, not in the first test's budget.
    beforeAll(async () => (await backend.open()).close())
    afterAll(() => backend.cleanup())

    it('saves a version per change, none for an unchanged document, and keeps old versions readable', async () => {
      const db = await openStore(() => backend.open())
      const org = randomUUID()
      const first = await applyWorkflow(db.sql, org, doc('restart'), { actor: 'api_token:t1' })
      expect(first).toMatchObject({
        name: 'restart',
        version: 1,
        created: true,
        changed: true,
        enabled: true,
      })
      // Comments and layout are not changes.
      const same = await applyWorkflow(db.sql, org, doc('restart').replace('# a comment', '# another'))
      expect(same).toMatchObject({ id: first.id, version: 1, created: false, changed: false })
      const second = await applyWorkflow(db.sql, org, doc('restart', '2m'), { actor: 'api_token:t2' })
      expect(second).toMatchObject({ id: first.id, version: 2, created: false, changed: true })

      const current = await getStoredWorkflow(db.sql, org, 'restart')
      expect(current).toMatchObject({ version: 2, shownVersion: 2, createdBy: 'api_token:t2', enabled: true })
      expect(current!.workflow.actions[0]!.timeoutMs).toBe(120_000)
      expect(current!.source).toBe(doc('restart', '2m'))
      const old = await getStoredWorkflow(db.sql, org, 'restart', 1)
      expect(old!.workflow.actions[0]!.timeoutMs).toBe(60_000)
      expect((await getWorkflowVersion(db.sql, org, first.id, 1))!.actions[0]!.timeoutMs).toBe(60_000)
      expect(await getStoredWorkflow(db.sql, org, 'restart', 3)).toBeUndefined()
      expect(
        (await listWorkflowVersions(db.sql, org, 'restart')).map((v) => [v.version, v.createdBy]),
      ).toEqual([
        [2, 'api_token:t2'],
        [1, 'api_token:t1'],
      ])
      await db.close()
    })

    it('saves nothing for an invalid document and reports every issue', async () => {
      const db = await openStore(() => backend.open())
      const org = randomUUID()
      const err = await applyWorkflow(db.sql, org, doc('Bad Name', 'soon')).catch((e) => e)
      expect(err).toBeInstanceOf(WorkflowError)
      expect((err as WorkflowError).data?.issues).toHaveLength(2)
      expect((err as WorkflowError).message).toMatch(/name: expected a name .* \(line 2, column 7\)/)
      expect(await listWorkflowSummaries(db.sql, org)).toEqual([])
      await db.close()
    })

    it('enables and disables without a new version; the document decides when it says so', async () => {
      const db = await openStore(() => backend.open())
      const org = randomUUID()
      await applyWorkflow(db.sql, org, doc('a'))
      await applyWorkflow(db.sql, org, doc('b'))
      expect(await setWorkflowEnabled(db.sql, org, 'a', false)).toBe(true)
      expect(await setWorkflowEnabled(db.sql, org, 'missing', false)).toBe(false)
      expect((await enabledWorkflows(db.sql, org, 'webhook')).map((w) => w.workflow.name)).toEqual(['b'])
      expect(await enabledWorkflows(db.sql, org, 'schedule')).toEqual([])
      // Re-applying without `enabled` keeps the state; with it, the document wins.
      expect(await applyWorkflow(db.sql, org, doc('a', '3m'))).toMatchObject({ version: 2, enabled: false })
      expect(await applyWorkflow(db.sql, org, doc('a', '3m', 'enabled: true\n'))).toMatchObject({
        version: 2,
        changed: false,
        enabled: true,
      })
      expect((await listWorkflowSummaries(db.sql, org)).map((w) => [w.name, w.enabled, w.version])).toEqual([
        ['a', true, 2],
        ['b', true, 1],
      ])
      await db.close()
    })

    it('keeps organizations apart', async () => {
      const db = await openStore(() => backend.open())
      const [a, b] = [randomUUID(), randomUUID()]
      const mine = await applyWorkflow(db.sql, a, doc('same-name'))
      const theirs = await applyWorkflow(db.sql, b, doc('same-name', '2m'))
      expect(theirs).toMatchObject({ created: true, version: 1 })
      expect(theirs.id).not.toBe(mine.id)
      expect(await getWorkflowVersion(db.sql, b, mine.id, 1)).toBeUndefined()
      expect(await setWorkflowEnabled(db.sql, b, 'same-name', false)).toBe(true)
      expect((await getStoredWorkflow(db.sql, a, 'same-name'))!.enabled).toBe(true)
      await db.close()
    })

    it('numbers versions without gaps or collisions under concurrent applies', async () => {
      const db = await openStore(() => backend.open())
      const org = randomUUID()
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => applyWorkflow(db.sql, org, doc('busy', `${i + 1}m`))),
      )
      expect(results.filter((r) => r.created)).toHaveLength(1)
      expect(results.map((r) => r.version).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
      expect(new Set(results.map((r) => r.id)).size).toBe(1)
      await db.close()
    })
  })
}
