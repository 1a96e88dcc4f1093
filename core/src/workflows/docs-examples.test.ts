import { createHmac } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { dryRun } from './dry-run.ts'
import { formatIssue } from './issues.ts'
import { parseWorkflow } from './parse-workflow.ts'
import { authenticateProvider } from './webhook/providers/index.ts'

// The workflow reference's complete example must stay a valid workflow: the docs are
// checked by the same parser operators use.

const docs = new URL('../../../docs/workflows.md', import.meta.url)

async function completeExample(): Promise<string> {
  const text = await readFile(docs, 'utf8')
  const section = text.slice(text.indexOf('## A complete example'))
  const m = /```yaml\n([\s\S]*?)```/.exec(section)
  if (!m) throw new Error('docs/workflows.md has no yaml block under "A complete example"')
  return m[1]!
}

describe('docs/workflows.md', () => {
  it('has a complete example that validates and dry-runs as described', async () => {
    const r = parseWorkflow(await completeExample())
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const alert = (labels: Record<string, string>, status = 'firing') => ({
      type: 'alert',
      source: 'alertmanager',
      data: { status, labels },
    })
    const event = alert({ severity: 'critical', service: 'web', instance: 'web-1:9100' })
    const plan = dryRun(r.workflow, event, { stepResults: { restart: { output: { restarted: true } } } })
    expect(plan.triggered).toBe(true)
    expect(plan.windowKey).toBe('web')
    expect(plan.actions.map((a) => [a.id, a.plugin, a.decision, a.input])).toEqual([
      ['restart', '@stavily/plugin-restart-service', 'run', { unit: 'web.service' }],
      ['verify', '@stavily/plugin-run-command', 'run', { args: ['http://web-1:9100/health'] }],
    ])
    expect(plan.outputs[0]!.input).toEqual({ text: 'web: run succeeded' })
    expect(dryRun(r.workflow, alert({ severity: 'warning', service: 'web' })).triggered).toBe(false)
    expect(dryRun(r.workflow, alert({ severity: 'critical', service: 'web' }, 'resolved')).triggered).toBe(
      false,
    )
  })
})

/** The yaml block of docs/workflows.md that starts with `# example: <name>`. */
async function namedExample(name: string): Promise<string> {
  const text = await readFile(docs, 'utf8')
  const m = new RegExp(`\`\`\`yaml\\n(# example: ${name}\\n[\\s\\S]*?)\`\`\``).exec(text)
  if (!m) throw new Error(`docs/workflows.md has no yaml block starting "# example: ${name}"`)
  return m[1]!
}

describe('docs/workflows.md, the forge and Alertmanager examples', () => {
  it('the GitHub push example dry-runs against a recorded push as it describes', async () => {
    const r = parseWorkflow(await namedExample('github-push'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const check = authenticateProvider('github', {
      headers: { 'x-hub-signature-256': `sha256=${hmac(RECORDED_PUSH)}` },
      body: RECORDED_PUSH,
      secret: 'k',
    })
    if (!check.ok) throw new Error(check.message)
    const [event] = check.provider.events(
      { headers: { 'x-github-event': 'push' }, body: RECORDED_PUSH, secret: 'k' },
      JSON.parse(RECORDED_PUSH.toString()),
    )
    const plan = dryRun(r.workflow, event!)
    expect(plan.triggered).toBe(true)
    expect(plan.actions[0]?.input).toEqual({ args: ['acme/web', 'b'.repeat(40)] })
    const feature = { ...event!, data: { ...(event!.data as object), branch: 'feature' } }
    expect(dryRun(r.workflow, feature).triggered).toBe(false)
  })

  it('the Alertmanager example runs for a firing ServiceDown alert, not for its resolution', async () => {
    const r = parseWorkflow(await namedExample('alertmanager'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const check = authenticateProvider('alertmanager', {
      headers: { authorization: 'Bearer k' },
      body: Buffer.from('{}'),
      secret: 'k',
    })
    if (!check.ok) throw new Error(check.message)
    const alert = (status: string) => ({
      alerts: [
        {
          status,
          labels: { alertname: 'ServiceDown', service: 'nginx' },
          startsAt: '2026-12-07T09:00:00Z',
          fingerprint: 'f',
        },
      ],
    })
    const req = { headers: {}, body: Buffer.from('{}'), secret: 'k' }
    const [firing] = check.provider.events(req, alert('firing'))
    const plan = dryRun(r.workflow, firing!)
    expect(plan.triggered).toBe(true)
    expect(plan.actions[0]?.input).toEqual({ unit: 'nginx.service' })
    const [resolved] = check.provider.events(req, alert('resolved'))
    expect(dryRun(r.workflow, resolved!).triggered).toBe(false)
  })
})

const RECORDED_PUSH = Buffer.from(
  JSON.stringify({
    ref: 'refs/heads/main',
    before: 'a'.repeat(40),
    after: 'b'.repeat(40),
    repository: { full_name: 'acme/web', clone_url: 'https://github.com/acme/web.git' },
    pusher: { name: 'ada', email: 'ada@example.com' },
    commits: [{ id: 'b'.repeat(40), message: 'Fix', author: { name: 'Ada', email: 'ada@example.com' } }],
  }),
)
const hmac = (body: Buffer) => createHmac('sha256', 'k').update(body).digest('hex')

/** An event a first-party sensor emitted, recorded beside the plugin (its unit test keeps it true). */
async function recordedSensorEvent(plugin: string) {
  const file = new URL(`../../../plugins/${plugin}/test/recorded-event.json`, import.meta.url)
  return {
    source: plugin,
    ...(JSON.parse(await readFile(file, 'utf8')).event as { type: string; data: unknown }),
  }
}

describe('docs/workflows.md, the webhook respond example', () => {
  it('renders the status and body from the finished run, and says what a dry run cannot know', async () => {
    const r = parseWorkflow(await namedExample('webhook-respond'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const event = { type: 'webhook', data: { n: 21 } }
    const plan = dryRun(r.workflow, event, { stepResults: { compute: { output: { value: 42, code: 201 } } } })
    expect(plan.response).toEqual({ status: 201, body: { result: 42, outcome: 'run succeeded' } })
    expect(dryRun(r.workflow, event).response).toMatchObject({ status: null, body: null })
  })
})

describe('docs/workflows.md, the host sensor examples', () => {
  it('the log-file example restarts for a FATAL line, not for an ERROR one', async () => {
    const r = parseWorkflow(await namedExample('log-file'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const event = await recordedSensorEvent('log-file')
    const plan = dryRun(r.workflow, event)
    expect(plan.triggered).toBe(true)
    expect(plan.actions.map((a) => [a.id, a.decision, a.input])).toEqual([
      ['restart', 'run', { unit: 'app.service' }],
    ])
    expect(plan.outputs[0]?.input).toEqual({
      text: 'E42 at line 2: 2026-12-07T10:04:12Z FATAL E42 worker 3 out of memory',
    })
    const data = event.data as { groups: Record<string, string> }
    const error = { ...event, data: { ...data, groups: { ...data.groups, level: 'ERROR' } } }
    expect(dryRun(r.workflow, error).triggered).toBe(false)
  })

  it('the host-metrics example restarts when memory goes over, not on load or on recovery', async () => {
    const r = parseWorkflow(await namedExample('host-metrics'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const event = await recordedSensorEvent('host-metrics')
    const plan = dryRun(r.workflow, event, { stepResults: { restart: { status: 'succeeded' } } })
    expect(plan.triggered).toBe(true)
    expect(plan.actions.map((a) => [a.id, a.decision, a.input])).toEqual([
      ['restart', 'run', { unit: 'app.service' }],
    ])
    expect(plan.outputs[0]?.input).toEqual({ text: 'web-1: memory at 93.01 % (over 90 %), succeeded' })
    const data = event.data as Record<string, unknown>
    expect(dryRun(r.workflow, { ...event, data: { ...data, metric: 'load5' } }).triggered).toBe(false)
    expect(dryRun(r.workflow, { ...event, type: 'host-metrics.recovered' }).triggered).toBe(false)
  })
})

describe('docs/workflows.md, the database event example', () => {
  it('retries a failed payment of 100 or more, not a smaller one', async () => {
    const r = parseWorkflow(await namedExample('postgres'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const event = await recordedSensorEvent('postgres')
    const plan = dryRun(r.workflow, event, { stepResults: { retry: { status: 'succeeded' } } })
    expect(plan.triggered).toBe(true)
    expect(plan.actions.map((a) => [a.id, a.decision, a.input])).toEqual([['retry', 'run', { args: ['42'] }]])
    expect(plan.outputs[0]?.input).toEqual({
      text: 'order 42 (129.90) for ada@example.com: retry succeeded',
    })
    const data = event.data as { row: Record<string, unknown> }
    const small = { ...event, data: { ...data, row: { ...data.row, total: '99.99' } } }
    expect(dryRun(r.workflow, small).triggered).toBe(false)
  })
})

describe('docs/workflows.md, the file change example', () => {
  it('checks and reloads nginx for a changed config file, not for one under disabled/', async () => {
    const r = parseWorkflow(await namedExample('file-watch'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const event = await recordedSensorEvent('file-watch')
    const plan = dryRun(r.workflow, event, { stepResults: { reload: { status: 'succeeded' } } })
    expect(plan.triggered).toBe(true)
    expect(plan.actions.map((a) => [a.id, a.decision])).toEqual([
      ['check', 'run'],
      ['reload', 'run'],
    ])
    expect(plan.outputs[0]?.input).toEqual({ text: 'conf.d/site.conf modified: nginx reload succeeded' })
    const data = event.data as Record<string, unknown>
    const disabled = { ...event, data: { ...data, relativePath: 'disabled/old.conf' } }
    expect(dryRun(r.workflow, disabled).triggered).toBe(false)
  })
})

describe('docs/workflows.md, the Git commit example', () => {
  it('deploys a push to main with its commits, not a force-push or another branch', async () => {
    const r = parseWorkflow(await namedExample('git-poll'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const event = await recordedSensorEvent('git-poll')
    const data = event.data as { after: string }
    const plan = dryRun(r.workflow, event, { stepResults: { deploy: { status: 'succeeded' } } })
    expect(plan.triggered).toBe(true)
    expect(plan.actions.map((a) => [a.id, a.decision, a.input])).toEqual([
      ['deploy', 'run', { args: ['acme/web', data.after] }],
    ])
    expect(plan.outputs[0]?.input).toEqual({
      text: '2 commit(s) on main, first: Fix the checkout total rounding (Ada Lovelace); deploy succeeded',
    })
    expect(dryRun(r.workflow, { ...event, data: { ...data, forced: true } }).triggered).toBe(false)
    expect(dryRun(r.workflow, { ...event, data: { ...data, branch: 'release' } }).triggered).toBe(false)
    expect(dryRun(r.workflow, { ...event, data: { ...data, commits: [] } }).triggered).toBe(false)
  })
})

describe('docs/workflows.md, the escalation examples', () => {
  const alert = (status: string) => ({
    alerts: [
      {
        status,
        labels: { alertname: 'WebDown', service: 'web', instance: 'web-1:8080' },
        annotations: { summary: 'web answers 502' },
        startsAt: '2026-12-07T09:00:00Z',
        fingerprint: 'c0ffee01',
      },
    ],
  })
  const alertEvent = (status: string) => {
    const check = authenticateProvider('alertmanager', {
      headers: { authorization: 'Bearer k' },
      body: Buffer.from('{}'),
      secret: 'k',
    })
    if (!check.ok) throw new Error(check.message)
    const [event] = check.provider.events(
      { headers: {}, body: Buffer.from('{}'), secret: 'k' },
      alert(status),
    )
    return event!
  }

  it('notifies at once, for the firing alert and for its resolution', async () => {
    const r = parseWorkflow(await namedExample('escalation-notify'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const plan = dryRun(r.workflow, alertEvent('firing'))
    expect(plan.triggered).toBe(true)
    expect(plan.outputs.map((o) => [o.id, o.plugin, o.decision, o.input])).toEqual([
      ['notify', '@stavily/plugin-webhook', 'run', { text: 'web is firing: web answers 502' }],
    ])
    expect(dryRun(r.workflow, alertEvent('resolved')).outputs[0]?.input).toEqual({
      text: 'web is resolved: web answers 502',
    })
  })

  it('pages with the fingerprint when healing still fails, and resolves with it when the alert resolves', async () => {
    const r = parseWorkflow(await namedExample('escalation-page'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const heal = r.workflow.actions[0]!
    // The timer: six attempts two minutes apart, queued again by the orchestrator.
    expect(heal.retry).toMatchObject({ limit: 5, backoff: 'fixed', delayMs: 120_000 })

    const firing = alertEvent('firing')
    const stillDown = dryRun(r.workflow, firing, {
      stepResults: {
        heal: {
          status: 'failed',
          error: { code: 'RESTART_SERVICE_NOT_ACTIVE', message: 'web.service is not active after restart' },
        },
      },
    })
    expect(stillDown.actions.map((a) => [a.id, a.decision, a.input])).toEqual([
      ['heal', 'run', { unit: 'web.service' }],
    ])
    const [page, resolve] = stillDown.outputs
    expect(page).toMatchObject({ id: 'page', plugin: '@stavily/plugin-escalation', decision: 'run' })
    expect(page?.input).toEqual({
      dedupKey: 'c0ffee01',
      summary: 'web still down after 10 minutes of restarts',
      severity: 'critical',
      source: 'web-1:8080',
      customDetails: { run: expect.any(String), error: 'web.service is not active after restart' },
    })
    expect(resolve?.decision).toBe('skip')

    // Healed within the attempts: nobody is paged, and nothing is resolved for a firing alert.
    const healed = dryRun(r.workflow, firing, {
      stepResults: { heal: { output: { restarted: true, active: true } } },
    })
    expect(healed.outputs.map((o) => [o.id, o.decision])).toEqual([
      ['page', 'skip'],
      ['resolve', 'skip'],
    ])

    // The resolution: heal is skipped, the run succeeds, the incident of that fingerprint is resolved.
    const resolved = dryRun(r.workflow, alertEvent('resolved'))
    expect(resolved.actions.map((a) => [a.id, a.decision])).toEqual([['heal', 'skip']])
    expect(resolved.outputs.map((o) => [o.id, o.decision, o.input])).toEqual([
      ['page', 'skip', null],
      ['resolve', 'run', { action: 'resolve', dedupKey: 'c0ffee01' }],
    ])
  })
})

// docs/recipes.md: every `# example:` block parses, and dry-runs against a sample event as
// the recipe's text says.
const recipesDoc = new URL('../../../docs/recipes.md', import.meta.url)

async function recipe(name: string) {
  const text = await readFile(recipesDoc, 'utf8')
  const m = new RegExp(`\`\`\`yaml\\n(# example: ${name}\\n[\\s\\S]*?)\`\`\``).exec(text)
  if (!m) throw new Error(`docs/recipes.md has no yaml block starting "# example: ${name}"`)
  const r = parseWorkflow(m[1]!)
  if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
  return r.workflow
}

describe('docs/recipes.md', () => {
  it('has no example the suite does not check', async () => {
    const names = [...(await readFile(recipesDoc, 'utf8')).matchAll(/^# example: (\S+)$/gm)].map((m) => m[1])
    expect(names).toEqual([
      'smoke-tests',
      'nightly-backup',
      'config-from-event',
      'scale-kubectl',
      'scale-compose',
      'scale-http',
    ])
  })

  it('smoke-tests: notifies with the counts only when a test failed', async () => {
    const wf = await recipe('smoke-tests')
    const event = { type: 'schedule', data: {} }
    const failed = {
      code: 1,
      passed: false,
      report: { tests: 7, passed: 5, failed: 1, skipped: 1, failures: [{ name: 'api > login' }] },
    }
    const plan = dryRun(wf, event, { stepResults: { tests: { output: failed } } })
    expect(plan.outputs[0]).toMatchObject({
      decision: 'run',
      input: {
        text: '1 smoke tests failed, first: api > login',
        fields: { 'exit code': 1, passed: 5, skipped: 1 },
      },
    })
    // A runner that crashed before writing its report: the message still renders.
    const crashed = dryRun(wf, event, {
      stepResults: { tests: { output: { code: 2, passed: false, report: null } } },
    })
    expect(crashed.outputs[0]?.input).toMatchObject({ text: 'Some smoke tests failed, first: see the run' })
    const green = dryRun(wf, event, {
      stepResults: { tests: { output: { code: 0, passed: true, report: null } } },
    })
    expect(green.outputs[0]?.decision).toBe('skip')
  })

  it('nightly-backup: the drill restores exactly the file the backup wrote', async () => {
    const wf = await recipe('nightly-backup')
    const file = '/var/backups/shop/shop-20261207T010000000Z.dump'
    const plan = dryRun(
      wf,
      { type: 'schedule', data: {} },
      {
        stepResults: { backup: { output: { file, sizeBytes: 1234, sha256: 'ab', removed: [] } } },
      },
    )
    expect(plan.actions.map((a) => [a.id, a.decision])).toEqual([
      ['backup', 'run'],
      ['restore-drill', 'run'],
    ])
    expect(plan.actions[1]?.input).toEqual({
      operation: 'restore',
      file,
      target: 'postgres://backup@127.0.0.1:5432/shop_restore_check',
    })
    expect(plan.outputs[0]?.input).toMatchObject({ fields: { file, sizeBytes: 1234 } })
  })

  it('config-from-event: renders the upstream file from the event, the same for the same event', async () => {
    const wf = await recipe('config-from-event')
    const event = { type: 'webhook', data: { service: 'app', host: '10.0.0.7', port: 8081 } }
    const plan = dryRun(wf, event)
    expect(plan.triggered).toBe(true)
    expect(plan.actions[0]?.input).toEqual({
      content:
        '# written by Stavily (workflow move-app-upstream)\nupstream app {\n  server 10.0.0.7:8081;\n}\n',
    })
    expect(dryRun(wf, event).actions[0]?.input).toEqual(plan.actions[0]?.input)
    expect(dryRun(wf, { type: 'webhook', data: { service: 'db' } }).triggered).toBe(false)
  })

  it('scale-kubectl and scale-compose: the count is one argument after fixed options', async () => {
    const k = dryRun(await recipe('scale-kubectl'), {
      type: 'alert',
      data: { status: 'firing', labels: { alertname: 'HighLoad' }, annotations: { replicas: '9' } },
    })
    expect(k.actions[0]?.input).toEqual({ args: ['9'] })
    const d = dryRun(await recipe('scale-compose'), {
      type: 'webhook',
      data: { service: 'worker', replicas: 4 },
    })
    expect(d.actions[0]?.input).toEqual({ args: ['worker=4'] })
  })

  it('scale-http: the count is a number in the JSON body, the deployment in the path', async () => {
    const wf = await recipe('scale-http')
    const plan = dryRun(
      wf,
      { type: 'webhook', data: { deployment: 'web', replicas: '7' } },
      {
        stepResults: { scale: { output: { status: 200, json: { spec: { replicas: 7 } } } } },
      },
    )
    expect(plan.actions[0]?.input).toEqual({ path: '/web/scale', body: { spec: { replicas: 7 } } })
    expect(plan.outputs[0]?.input).toMatchObject({ text: 'web scaled to 7 replicas: succeeded' })
    expect(dryRun(wf, { type: 'webhook', data: { deployment: 'db', replicas: '1' } }).triggered).toBe(false)
    // Text that is not a number fails the step before any request.
    const bad = dryRun(wf, { type: 'webhook', data: { deployment: 'web', replicas: 'many' } })
    expect(bad.actions[0]?.decision).toBe('error')
  })
})

describe('docs/workflows.md, the schedule example', () => {
  it('runs df at the schedule and logs its answer with the firing time', async () => {
    const r = parseWorkflow(await namedExample('schedule'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    expect(r.workflow.trigger).toMatchObject({
      kind: 'schedule',
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
    })
    // The event the orchestrator's schedule starts a run with (core/src/engine/intake.ts).
    const fired = {
      type: 'schedule.fired',
      source: 'schedule',
      data: { scheduledAt: '2026-12-08T02:00:00.000Z' },
    }
    const plan = dryRun(r.workflow, fired, {
      stepResults: { disk: { output: { code: 0, stdout: 'Use%\n 41%\n' } } },
    })
    expect(plan.triggered).toBe(true)
    expect(plan.actions.map((a) => [a.id, a.plugin, a.decision])).toEqual([
      ['disk', '@stavily/plugin-run-command', 'run'],
    ])
    expect(plan.outputs[0]?.input).toEqual({
      message: 'disk check of 2026-12-08T02:00:00.000Z: Use%\n 41%\n',
    })
  })
})

describe('docs/workflows.md, the email example', () => {
  it('renders the report from the health check, on success and on failure', async () => {
    const r = parseWorkflow(await namedExample('email-report'))
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    expect(r.workflow.trigger).toMatchObject({
      kind: 'schedule',
      cron: '0 7 * * 1-5',
      timezone: 'Europe/Paris',
    })
    const manual = { type: 'manual', source: 'manual', data: {} }
    const healthy = dryRun(r.workflow, manual, {
      stepResults: { health: { output: { code: 0, stdout: 'ok', stderr: '' } } },
    })
    expect(healthy.actions.map((a) => [a.id, a.plugin, a.decision])).toEqual([
      ['health', '@stavily/plugin-run-command', 'run'],
    ])
    const [report] = healthy.outputs
    expect(report).toMatchObject({ id: 'report', plugin: '@stavily/plugin-email', decision: 'run' })
    const input = report?.input as { subject: string; text: string; html: string }
    expect(input.subject).toBe('web health: succeeded, exit 0')
    expect(input.text).toMatch(/^Run \S+ asked \/health\. Exit code 0, answer: ok$/)
    expect(input.html).toMatch(
      /^<p>Run <b>\S+<\/b> asked <code>\/health<\/code>: succeeded, exit code 0\.<\/p>$/,
    )
    // on: always: a failed check is reported too.
    const failed = dryRun(r.workflow, manual, {
      stepResults: {
        health: { status: 'failed', error: { code: 'RUN_COMMAND_FAILED', message: 'curl: timed out' } },
      },
    })
    expect(failed.outputs[0]?.decision).toBe('run')
    expect(failed.outputs[0]?.input).toMatchObject({
      subject: 'web health: failed, exit none',
      text: expect.stringMatching(/Exit code none, answer: curl: timed out$/),
    })
  })
})
