import { call, deliver, token } from '@stavily/core/testing'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AGENT_VERSION,
  applyHookWorkflow,
  backends,
  eventually,
  hookWorkflow,
  openStage,
  PLUGIN,
  type Stage,
  screenshot,
  signIn,
} from './harness.ts'

// The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
// orchestrator on each backend: what an operator does on each page, checked in the page and
// against the API, and what a viewer can do (nothing that changes anything).

for (const setup of backends()) {
  describe(`the dashboard on ${setup.name}`, () => {
    let stage: Stage
    let admin: Page

    beforeAll(async () => {
      stage = await openStage(setup)
      admin = await stage.page()
    }, 120_000)
    afterAll(async () => {
      await stage?.close()
    })

    it('signs in with an API token and shows its role; a wrong token is refused with the reason', async () => {
      await admin.goto('/agents')
      await admin.getByLabel('API token').waitFor()
      await screenshot(admin, 'sign-in')
      await admin.getByLabel('API token').fill('stv_api_not-a-real-token')
      await admin.getByRole('button', { name: 'Sign in' }).click()
      await eventually(() => admin.getByRole('alert').textContent()).toMatch(/token/i)
      await signIn(admin, stage.admin, 'admin', '/agents')
      // The deep link survives the sign-in: the page asked for is the page shown.
      expect(new URL(admin.url()).pathname).toBe('/agents')
    })

    it('shows a run appear and finish live, without a reload', async () => {
      const workflowId = await applyHookWorkflow(stage, 'restart-on-hook')
      await admin.goto('/runs')
      await admin.getByRole('heading', { name: 'Runs' }).waitFor()
      await eventually(() => admin.getByTestId('live-state').textContent()).toBe('live')
      // A reload would drop this mark: the run must arrive through the stream.
      await admin.evaluate(() => Object.assign(window, { notReloaded: true }))

      stage.gate.hold('nginx')
      const hook = await deliver(stage.r, workflowId, { service: 'nginx' })
      expect(hook.status, JSON.stringify(hook.body)).toBe(202)
      const status = admin.locator(`tr[data-run-id="${hook.body.runId}"] [data-status]`)
      await eventually(() => status.getAttribute('data-status')).toMatch(/^(queued|running)$/)
      await screenshot(admin, 'runs')
      stage.gate.release('nginx')
      await eventually(() => status.getAttribute('data-status')).toBe('succeeded')
      expect(await admin.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true)
    })

    it('opens a failed step and reads its error', async () => {
      const workflowId = await applyHookWorkflow(stage, 'restart-on-hook')
      const hook = await deliver(stage.r, workflowId, { service: 'broken-db' })
      expect(hook.status).toBe(202)
      await admin.goto('/runs')
      const row = admin.locator(`tr[data-run-id="${hook.body.runId}"]`)
      await eventually(() => row.locator('[data-status]').getAttribute('data-status')).toBe('failed')
      await row.getByRole('link', { name: 'restart-on-hook' }).click()
      await admin.waitForURL(`**/runs/${hook.body.runId}`)
      const step = admin.locator('[data-step="restart"]')
      await expect
        .poll(() => step.getByTestId('step-error').textContent())
        .toContain('no unit named broken-db.service')
      expect(await step.getByTestId('step-error').textContent()).toContain('UNIT_NOT_FOUND')
      await screenshot(admin, 'run-failed')
    })

    it('shows "instance admin" beside the role for the bootstrap token only', async () => {
      await admin.goto('/runs')
      await eventually(() => admin.getByTestId('instance-admin').textContent()).toBe('instance admin')
      expect(await admin.getByTestId('role').textContent()).toBe('admin')
      expect((await stage.api('GET', '/whoami')).body.instanceAdmin).toBe(true)
      // Another admin of the organization and a viewer: their role, nothing more.
      const orgAdmin = (await token(stage.r, 'admin')).token
      for (const [t, role] of [
        [orgAdmin, 'admin'],
        [stage.viewer, 'viewer'],
      ] as const) {
        const other = await stage.page()
        await signIn(other, t, role)
        expect(await other.getByTestId('instance-admin').count(), role).toBe(0)
        expect((await stage.api('GET', '/whoami', undefined, t)).body.instanceAdmin).toBe(false)
      }
    })

    it('says how many earlier log lines of a step the run leaves out, and shows every line when asked', async () => {
      const workflowId = await applyHookWorkflow(stage, 'restart-on-hook')
      const hook = await deliver(stage.r, workflowId, { service: 'chatty' })
      expect(hook.status).toBe(202)
      const runId = hook.body.runId
      await eventually(async () => (await stage.api('GET', `/runs/${runId}`)).body.status).toBe('succeeded')
      // Another attempt's lines as an agent reports them: more than GET /runs/:id shows of a step.
      const { rows } = await stage.r.o.services.db.sql.query<{ id: string }>(
        'SELECT id FROM instructions WHERE run_id = $1',
        [runId],
      )
      const lines = Array.from({ length: 2_100 }, (_, n) => ({ level: 'info', message: `line ${n}`, at: n }))
      await stage.r.o.services.db.sql.query(
        `INSERT INTO results (instruction_id, attempt, agent_id, status, logs, answer)
         VALUES ($1, 2, gen_random_uuid(), 'failed', $2::jsonb, '{}'::jsonb)`,
        [rows[0]!.id, JSON.stringify(lines)],
      )
      const detail = await stage.api('GET', `/runs/${runId}`)
      const omitted = detail.body.steps[0].logsOmitted
      expect(omitted).toBeGreaterThan(0)
      const total = (await stage.api('GET', `/instructions/${rows[0]!.id}`)).body.logs.length
      expect(total).toBeGreaterThanOrEqual(2_100)
      const shown = total - omitted

      await admin.goto(`/runs/${runId}`)
      const step = admin.locator('[data-step="restart"]')
      await step.locator('summary').click()
      const note = step.getByTestId('logs-omitted')
      await eventually(() => note.textContent()).toContain(`${omitted} earlier lines not shown`)
      expect(await note.textContent()).toContain(`GET /api/v1/instructions/${rows[0]!.id}`)
      const logRows = step.getByTestId('step-logs').locator('tr')
      expect(await logRows.count()).toBe(shown)
      expect(await logRows.last().textContent()).toContain('line 2099')

      await note.getByRole('button', { name: 'Show every line' }).click()
      await eventually(() => logRows.count()).toBe(total)
      expect(await step.getByText('line 0', { exact: true }).count()).toBe(1)
      expect(await logRows.last().textContent()).toContain('line 2099')
      expect(await step.getByTestId('logs-omitted').count()).toBe(0)
    })

    it('marks the line of an error when a workflow is applied, and applies it once fixed', async () => {
      await admin.goto('/workflows')
      await admin.getByRole('button', { name: 'Write a workflow…' }).click()
      const editor = admin.getByTestId('workflow-editor')
      const broken = hookWorkflow('edited-in-page').replace('version: ^1.0.0', 'version: not-a-range')
      const badLine = broken.split('\n').findIndex((l) => l.includes('not-a-range')) + 1
      await editor.fill(broken)
      await admin.getByRole('button', { name: 'Apply' }).click()
      await eventually(() => admin.locator('.gutter .bad').allTextContents()).toEqual([String(badLine)])
      expect(await admin.getByTestId('editor-issues').textContent()).toContain('actions[0].version')
      await screenshot(admin, 'workflow-error')

      await editor.fill(hookWorkflow('edited-in-page'))
      await admin.getByRole('button', { name: 'Apply' }).click()
      await expect
        .poll(() => admin.getByTestId('apply-result').textContent())
        .toMatch(/Created\s+edited-in-page/)
      expect(await admin.locator('.gutter .bad').count()).toBe(0)
      expect((await stage.api('GET', '/workflows/edited-in-page')).status).toBe(200)
    })

    it('drains an agent and undrains it', async () => {
      await stage.beat()
      await admin.goto('/agents')
      const row = admin.locator('tr', { has: admin.getByText('action-web', { exact: true }) })
      await eventually(() => row.getByTestId('presence').textContent()).toBe('online')
      await eventually(() => row.textContent()).toContain(AGENT_VERSION)
      await eventually(() => row.textContent()).toContain(PLUGIN)
      await screenshot(admin, 'agents')

      await row.getByRole('button', { name: 'Drain action-web' }).click()
      await eventually(() => row.getByTestId('presence').textContent()).toBe('draining')
      const drained = await stage.api('GET', '/agents')
      expect(drained.body.items.find((a: { name: string }) => a.name === 'action-web').drain).toBe(true)

      await row.getByRole('button', { name: 'Undrain action-web' }).click()
      await eventually(() => row.getByTestId('presence').textContent()).toBe('online')
      const back = await stage.api('GET', '/agents')
      expect(back.body.items.find((a: { name: string }) => a.name === 'action-web').drain).toBe(false)
    })

    it("shows an agent's loaded plugins and presence change live, without a reload", async () => {
      await admin.goto('/agents')
      await eventually(() => admin.getByTestId('live-state').textContent()).toBe('live')
      await admin.evaluate(() => Object.assign(window, { notReloaded: true }))
      const row = admin.locator('tr[data-agent="action-web"]')
      await eventually(() => row.getByTestId('presence').textContent()).toBe('online')
      const { id } = (await stage.api('GET', '/agents')).body.items.find(
        (a: { name: string }) => a.name === 'action-web',
      )
      // The agent reports it runs a version its pool no longer asks for.
      const beat = await call(stage.r.url, 'POST', '/agents/v1/heartbeat', {
        token: stage.agent.credential,
        body: { version: AGENT_VERSION, loadedPlugins: [{ name: PLUGIN, version: '0.1.0' }] },
      })
      expect(beat.status).toBe(200)
      const plugins = row.getByTestId('plugins')
      await eventually(() => plugins.textContent()).toMatch(/0\.1\.0\s*\(not in its pool\)/)
      expect(await plugins.textContent()).toContain('(not loaded)')
      // Someone else drains it (through the API): the row follows.
      expect((await stage.api('POST', `/agents/${id}/drain`, { drain: true })).status).toBe(200)
      await eventually(() => row.getByTestId('presence').textContent()).toBe('draining')
      expect((await stage.api('POST', `/agents/${id}/drain`, { drain: false })).status).toBe(200)
      await eventually(() => row.getByTestId('presence').textContent()).toBe('online')
      expect(await admin.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true)
    })

    it('creates an enrollment token and shows the command that starts an agent with it; the agent appears live', async () => {
      await admin.goto('/agents')
      await eventually(() => admin.getByTestId('live-state').textContent()).toBe('live')
      await admin.getByRole('button', { name: 'Enroll an agent' }).click()
      const form = admin.getByRole('form', { name: 'Create an enrollment token' })
      await form.getByLabel('Kind').selectOption('sensor')
      await form.getByLabel('Pool').fill('edge')
      await form.getByLabel('Labels').fill('zone=a')
      await form.getByRole('button', { name: 'Create enrollment token' }).click()
      const shown = admin.getByTestId('enrollment')
      await expect
        .poll(() => shown.textContent())
        .toMatch(/stavily-agent --orchestrator http:\/\/127\.0\.0\.1:\d+/)
      const command = (await shown.locator('pre').textContent()) ?? ''
      const token = /--enrollment-token (\S+)/.exec(command)?.[1]
      expect(token).toMatch(/^stv_/)
      // The token works: an agent registers with it, as a sensor in pool edge with the label.
      const reg = await fetch(`${stage.r.url}/agents/v1/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ enrollmentToken: token, name: 'edge-01' }),
      })
      expect(reg.status).toBe(201)
      expect(await reg.json()).toMatchObject({ kind: 'sensor', pool: 'edge', labels: { zone: 'a' } })
      // The page on screen gets it from the stream.
      await admin.locator('tr[data-agent="edge-01"]').first().waitFor({ timeout: 15_000 })
    })

    it('shows versions with digest, provenance and permissions, and enables a pinned version in a pool', async () => {
      const versions = (await stage.api('GET', `/registry/plugins/${encodeURIComponent(PLUGIN)}/versions`))
        .body.versions as { version: string; digest: string; provenance: { commit: string } }[]
      await admin.goto('/plugins')
      await admin.getByRole('link', { name: PLUGIN }).first().click()
      await admin.waitForURL(`**/plugins/${PLUGIN}`)
      for (const v of versions) {
        const card = admin.locator(`article[data-version="${v.version}"]`)
        await eventually(() => card.textContent()).toContain(v.digest)
        expect(await card.textContent()).toContain(v.provenance.commit)
        expect(await card.textContent()).toContain('Read the secrets: SLACK_TOKEN')
      }
      // Pool web follows ^1 and so runs the newest version.
      const web = admin.locator('tr[data-pool="web"]')
      expect(await web.getByTestId('pool-version').textContent()).toBe('1.1.0')

      await admin
        .locator('article[data-version="1.0.0"]')
        .getByRole('button', { name: 'Pin 1.0.0 in a pool…' })
        .click()
      await admin.keyboard.type('edge') // the pin button leaves the focus in the pool field
      await admin.getByRole('button', { name: 'Enable', exact: true }).click()
      await eventually(() => admin.locator('tr[data-pool="edge"]').textContent()).toContain('pinned')
      expect(await admin.locator('tr[data-pool="edge"]').getByTestId('pool-version').textContent()).toBe(
        '1.0.0',
      )
      await screenshot(admin, 'plugin')
      const enabled = (await stage.api('GET', '/plugins')).body.enabled as { pool: string; version: string }[]
      expect(enabled.find((e) => e.pool === 'edge')).toMatchObject({ version: '1.0.0' })

      // An error is the API's own words.
      await admin.getByRole('textbox', { name: 'Pool' }).fill('edge')
      await admin.getByRole('combobox', { name: 'Version or range' }).fill('^7')
      await admin.getByRole('button', { name: 'Enable', exact: true }).click()
      await eventually(() => admin.getByRole('alert').textContent()).toMatch(/range/)
    })

    it('sets and deletes a secret with the keyboard alone, and never shows a value', async () => {
      await admin.goto('/secrets')
      await admin.getByLabel('Name').focus()
      await admin.keyboard.type('DEPLOY_KEY')
      await admin.keyboard.press('Tab')
      await admin.keyboard.type('hunter2-not-shown')
      await admin.keyboard.press('Enter')
      const row = admin.locator('tr[data-secret="DEPLOY_KEY"]')
      await eventually(() => row.count()).toBe(1)
      expect(await admin.content()).not.toContain('hunter2-not-shown')
      await screenshot(admin, 'secrets')

      await row.getByRole('button', { name: 'Delete DEPLOY_KEY' }).focus()
      await admin.keyboard.press('Enter')
      // The confirmation replaces the button and takes the focus: Space confirms.
      await eventually(() => admin.evaluate(() => document.activeElement?.textContent?.trim())).toBe(
        'Yes, delete DEPLOY_KEY',
      )
      await admin.keyboard.press('Space')
      await eventually(() => row.count()).toBe(0)
      const names = (await stage.api('GET', '/secrets')).body.items.map((s: { name: string }) => s.name)
      expect(names).not.toContain('DEPLOY_KEY')
    })

    it('verifies the audit chain and filters the log by action', async () => {
      await admin.goto('/audit')
      await admin.getByRole('button', { name: 'Verify chain' }).click()
      const verified = await stage.api('GET', '/audit/verify')
      await expect
        .poll(() => admin.getByTestId('verification').textContent())
        .toMatch(/Chain intact: \d+ entries/)
      expect(await admin.getByTestId('verification').textContent()).toContain(
        verified.body.head.replace(/^sha256:/, '').slice(0, 12),
      )
      await screenshot(admin, 'audit', { fullPage: false })

      await admin.getByLabel('Action').fill('agent.drained')
      await admin.getByRole('button', { name: 'Filter' }).click()
      await admin.waitForURL('**/audit?action=agent.drained')
      // Agents were drained by the page and through the API: every row, and only those.
      await eventually(async () =>
        (
          await admin
            .locator('tbody tr')
            .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')))
        ).join(),
      ).toMatch(/^agent\.drained(,agent\.drained)*$/)
    })

    it('shows a viewer, at a phone width, no enabled control that changes anything; a forged request from the page gets 403', async () => {
      // At a phone's width: every page must also fit it without scrolling sideways.
      const viewer = await stage.page({ width: 390, height: 844 })
      await signIn(viewer, stage.viewer, 'viewer', '/agents')
      // Controls that only read (filters, searches, paging, dry runs, the chain check), by
      // label; any other control enabled for a viewer fails the test.
      const readOnly = new Set([
        'Sign out',
        'Refresh',
        'Filter',
        'Search',
        'Search the registry',
        'Verify chain',
        'Load more',
        'Show every line',
        'Older runs',
        'More workflows',
        'Try again',
        'Dry run',
        'Event data (JSON)',
        'Recorded event id',
        'Run id (its trigger event)',
        'Pool',
        'Presence',
        'Action',
        'Workflow',
        'Status',
        'Created',
        'From',
        'To',
      ])
      const hook = await deliver(stage.r, await applyHookWorkflow(stage, 'restart-on-hook'), {
        service: 'db',
      })
      const runId = hook.body.runId
      const pages = ['/runs', `/runs/${runId}`, '/workflows', '/workflows/restart-on-hook', '/agents']
      pages.push('/plugins', `/plugins/${PLUGIN}`, '/secrets', '/audit')
      for (const path of pages) {
        await viewer.goto(path)
        // Loaded: a heading is there and nothing is still loading (the live stream never idles).
        await viewer.locator('main h1').waitFor()
        await eventually(() => viewer.getByText(/^Loading/).count()).toBe(0)
        const enabled = await viewer.evaluate(() =>
          [
            ...document.querySelectorAll<HTMLInputElement>(
              'main button, main input, main select, main textarea',
            ),
          ]
            .filter((el) => !el.disabled)
            .map((el) => {
              if (el instanceof HTMLButtonElement) return (el.textContent ?? '').trim()
              const label = el.labels?.[0]
              const own = label?.firstChild?.nodeType === Node.TEXT_NODE ? label.firstChild.textContent : ''
              return (
                el.getAttribute('aria-label') ||
                own?.trim() ||
                label?.textContent?.trim() ||
                el.name
              ).trim()
            }),
        )
        expect(
          enabled.filter((label) => !readOnly.has(label)),
          path,
        ).toEqual([])
        const width = await viewer.evaluate(() => document.documentElement.scrollWidth)
        expect(width, `${path} is wider than the phone`).toBeLessThanOrEqual(390)
      }

      const agentId = (await stage.api('GET', '/agents')).body.items[0].id
      const forged = await viewer.evaluate(async (id) => {
        const token = sessionStorage.getItem('stavily.token')
        const send = (method: string, path: string, body: unknown) =>
          fetch(`/api/v1${path}`, {
            method,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          }).then((r) => r.status)
        return [
          await send('POST', `/agents/${id}/drain`, { drain: true }),
          await send('PUT', '/secrets/FORGED', { value: 'x' }),
          await send('POST', '/plugins/enable', { name: '@acme/restart', pool: 'edge', range: '1.1.0' }),
        ]
      }, agentId)
      expect(forged).toEqual([403, 403, 403])
      expect((await stage.api('GET', '/agents')).body.items.some((a: { drain: boolean }) => a.drain)).toBe(
        false,
      )
    })
  })
}
