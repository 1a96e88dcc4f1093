// docs/workflows.md's email example on the whole platform: run-command and email published
// from Git, an action agent whose configuration file defines the SMTP relay (STARTTLS with a
// CA file, AUTH with the SMTP_PASSWORD secret the orchestrator sends), a manual run of the
// scheduled workflow, and a real SMTP server on loopback receiving the report.
import { writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type SmtpPeer, startSmtpPeer } from '../../test/smtp-peer.ts'
import { adapt, docExample } from '../src/docs-examples.ts'
import { waitFor } from '../src/net.ts'
import { type Platform, startPlatform } from '../src/platform.ts'

const PASSWORD = 'e2e-relay-password-0123'

let platform: Platform
let peer: SmtpPeer
let health: Server
let healthPort = 0

beforeAll(async () => {
  platform = await startPlatform('email')
  peer = await startSmtpPeer({ user: 'stavily', password: PASSWORD })
  health = createServer((_req, res) => res.writeHead(200).end('all good'))
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve))
  healthPort = (health.address() as { port: number }).port

  for (const dir of ['run-command', 'email']) {
    const p = await platform.publish(dir)
    await platform.enable(p.name, p.version)
  }
  await platform.setSecret('SMTP_PASSWORD', PASSWORD)
  await platform.apply(
    adapt(docExample('email-report'), [
      ['http://127.0.0.1:8080/health', `http://127.0.0.1:${healthPort}/health`],
    ]),
  )

  // The relay is the operator's: defined in the agent's configuration file, never in the workflow.
  const config = join(platform.dir, 'agent-config.json')
  writeFileSync(
    config,
    JSON.stringify({
      grants: {
        exec: ['curl'],
        smtp: {
          mail: {
            url: `smtp://stavily@127.0.0.1:${peer.port}`,
            passwordSecret: 'SMTP_PASSWORD',
            from: 'Stavily <stavily@example.com>',
            caFile: peer.caFile,
          },
        },
      },
    }),
  )
  const agent = await platform.agent({
    name: 'action',
    kind: 'action',
    env: { STAVILY_AGENT_CONFIG: config },
  })
  await waitFor(
    'the action agent to load run-command and email',
    () => agent.child.lines.filter((l) => l.includes('plugin loaded')).length >= 2 || undefined,
    { timeoutMs: 120_000, intervalMs: 250 },
  )
}, 300_000)

afterAll(async () => {
  await platform?.close()
  await peer?.close()
  await new Promise<void>((resolve) => (health ? health.close(() => resolve()) : resolve()))
})

describe('the email report (docs/workflows.md, Email)', () => {
  it('mails the health check to the team over STARTTLS with AUTH', async () => {
    const { run } = await platform.api.post<{ run: { id: string } }>('/workflows/morning-report/runs', {})
    const done = await platform.waitForRun(run.id, 120_000)
    expect(done.status, platform.logs()).toBe('succeeded')
    const report = done.steps.find((s) => s.stepId === 'report')!
    expect(report, platform.logs()).toMatchObject({
      status: 'succeeded',
      output: { relay: 'mail', accepted: ['ops@example.com', 'lead@example.com'], rejected: [] },
    })

    expect(peer.delivered).toHaveLength(1)
    const mail = peer.delivered[0]!
    expect(mail).toMatchObject({
      secure: true,
      user: 'stavily',
      envelope: { from: 'stavily@example.com', to: ['ops@example.com', 'lead@example.com'] },
    })
    expect(mail.headers).toMatchObject({
      from: 'Stavily <stavily@example.com>',
      to: 'ops@example.com',
      cc: 'lead@example.com',
      subject: '[stavily] web health: succeeded, exit 0',
      'message-id': (report.output as { messageId: string }).messageId,
    })
    expect(mail.headers['x-stavily-idempotency-key']).toBeTruthy()
    expect(mail.text).toBe(`Run ${run.id} asked /health. Exit code 0, answer: all good`)
    expect(mail.html).toBe(`<p>Run <b>${run.id}</b> asked <code>/health</code>: succeeded, exit code 0.</p>`)
  }, 180_000)
})
