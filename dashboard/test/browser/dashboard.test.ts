import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT_VERSION, backends, openStage, PLUGIN, type Stage, screenshot, signIn } from './harness.ts'

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
      await screenshot(admin, 'sign-in')
      await admin.getByLabel('API token').fill('stv_api_not-a-real-token')
      await admin.getByRole('button', { name: 'Sign in' }).click()
      await expect.poll(() => admin.getByRole('alert').textContent()).toMatch(/token/i)
      await signIn(admin, stage.admin, 'admin', '/agents')
      // The deep link survives the sign-in: the page asked for is the page shown.
      expect(new URL(admin.url()).pathname).toBe('/agents')
    })

    it('drains an agent and undrains it', async () => {
      await stage.beat()
      await admin.goto('/agents')
      const row = admin.locator('tr', { has: admin.getByText('action-web', { exact: true }) })
      await expect.poll(() => row.getByTestId('presence').textContent()).toBe('online')
      await expect.poll(() => row.textContent()).toContain(AGENT_VERSION)
      await expect.poll(() => row.textContent()).toContain(PLUGIN)
      await screenshot(admin, 'agents')

      await row.getByRole('button', { name: 'Drain action-web' }).click()
      await expect.poll(() => row.getByTestId('presence').textContent()).toBe('draining')
      const drained = await stage.api('GET', '/agents')
      expect(drained.body.items.find((a: { name: string }) => a.name === 'action-web').drain).toBe(true)

      await row.getByRole('button', { name: 'Undrain action-web' }).click()
      await expect.poll(() => row.getByTestId('presence').textContent()).toBe('online')
      const back = await stage.api('GET', '/agents')
      expect(back.body.items.find((a: { name: string }) => a.name === 'action-web').drain).toBe(false)
    })

    it('creates an enrollment token and shows the command that starts an agent with it', async () => {
      await admin.goto('/agents')
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
    })

    it('shows versions with digest, provenance and permissions, and enables a pinned version in a pool', async () => {
      const versions = (await stage.api('GET', `/registry/plugins/${encodeURIComponent(PLUGIN)}/versions`))
        .body.versions as { version: string; digest: string; provenance: { commit: string } }[]
      await admin.goto('/plugins')
      await admin.getByRole('link', { name: PLUGIN }).first().click()
      await admin.waitForURL(`**/plugins/${PLUGIN}`)
      for (const v of versions) {
        const card = admin.locator(`article[data-version="${v.version}"]`)
        await expect.poll(() => card.textContent()).toContain(v.digest)
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
      await expect.poll(() => admin.locator('tr[data-pool="edge"]').textContent()).toContain('pinned')
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
      await expect.poll(() => admin.getByRole('alert').textContent()).toMatch(/range/)
    })

    it('sets and deletes a secret, and never shows a value', async () => {
      await admin.goto('/secrets')
      await admin.getByLabel('Name').fill('DEPLOY_KEY')
      await admin.getByLabel('Value').fill('hunter2-not-shown')
      await admin.getByRole('button', { name: 'Set secret' }).click()
      const row = admin.locator('tr[data-secret="DEPLOY_KEY"]')
      await expect.poll(() => row.count()).toBe(1)
      expect(await admin.content()).not.toContain('hunter2-not-shown')
      await screenshot(admin, 'secrets')

      await row.getByRole('button', { name: 'Delete DEPLOY_KEY' }).click()
      await row.getByRole('button', { name: 'Yes, delete' }).click()
      await expect.poll(() => row.count()).toBe(0)
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
      await screenshot(admin, 'audit')

      await admin.getByLabel('Action').fill('agent.drained')
      await admin.getByRole('button', { name: 'Filter' }).click()
      await admin.waitForURL('**/audit?action=agent.drained')
      await expect.poll(() => admin.locator('tbody tr').count()).toBe(1)
      expect(await admin.locator('tbody tr').first().getAttribute('data-action')).toBe('agent.drained')
    })

    it('shows a viewer no enabled control that changes anything; a forged request from the page gets 403', async () => {
      const viewer = await stage.page()
      await signIn(viewer, stage.viewer, 'viewer', '/agents')
      // Controls that only read (filters, searches, the chain check); any other enabled one fails.
      const readOnly = new Set([
        'Sign out',
        'Refresh',
        'Filter',
        'Search',
        'Search the registry',
        'Verify chain',
        'Load more',
        'Try again',
        'Pool',
        'Presence',
        'Action',
      ])
      for (const path of ['/agents', `/plugins/${PLUGIN}`, '/plugins', '/secrets', '/audit']) {
        await viewer.goto(path)
        // Loaded: the heading is there and no list is still loading (the live stream never idles).
        await viewer.locator('main h1').waitFor()
        await expect.poll(() => viewer.getByText(/^Loading/).count()).toBe(0)
        const enabled = await viewer.evaluate(() =>
          [
            ...document.querySelectorAll<HTMLButtonElement | HTMLInputElement>(
              'main button, main input, main select',
            ),
          ]
            .filter((el) => !el.disabled)
            .map((el) =>
              el instanceof HTMLButtonElement
                ? (el.textContent ?? '').trim()
                : (el.labels?.[0]?.firstChild?.textContent ?? el.name).trim(),
            ),
        )
        expect(
          enabled.filter((label) => !readOnly.has(label)),
          path,
        ).toEqual([])
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
