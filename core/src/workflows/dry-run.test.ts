// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow template syntax
import { describe, expect, it } from 'vitest'
import { dryRun } from './dry-run.ts'
import { loadWorkflow } from './parse-workflow.ts'

const workflow = loadWorkflow(`name: restart-on-alert
trigger:
  webhook:
    secret: HOOK_KEY
    filter: trigger.status == 'firing'
actions:
  - id: restart
    plugin: "@stavily/plugin-systemd"
    version: ^1
    input:
      service: \${{ trigger.labels.service }}
      attempts: \${{ default(trigger.labels.attempts, 1) }}
  - id: verify
    plugin: "@stavily/plugin-http"
    version: ^1
    when: steps.restart.output.restarted
    input:
      url: http://\${{ trigger.labels.instance }}/health
  - id: page
    plugin: "@stavily/plugin-pager"
    version: ^1
    when: trigger.labels.severity == 'critical'
outputs:
  - id: notify
    plugin: "@stavily/plugin-slack"
    version: ^1
    on: always
    input:
      text: "\${{ trigger.labels.service }}: \${{ run.status }}"
  - id: escalate
    plugin: "@stavily/plugin-slack"
    version: ^1
    on: failure
throttle:
  window: 10m
  key: \${{ trigger.labels.service }}
`)

const event = (data: unknown) => ({ source: 'webhook', type: 'alert', data })
const firing = event({
  status: 'firing',
  labels: { service: 'web', instance: 'web-1:8080', severity: 'warning' },
})

describe('dryRun', () => {
  it('does not trigger when the filter is false, and says why', () => {
    const r = dryRun(workflow, event({ status: 'resolved', labels: {} }))
    expect(r).toMatchObject({
      triggered: false,
      reason: 'the trigger filter is false for this event',
      actions: [],
    })
    const broken = dryRun(workflow, event({ labels: {} }))
    expect(broken.triggered).toBe(false)
    expect(broken.reason).toMatch(
      /the trigger filter failed: trigger has no key "status"; keys there: labels/,
    )
  })

  it('renders inputs, evaluates whens, and marks steps that need an unknown output', () => {
    const r = dryRun(workflow, firing)
    expect(r.triggered).toBe(true)
    expect(r.windowKey).toBe('web')
    expect(r.actions.map((a) => [a.id, a.decision])).toEqual([
      ['restart', 'run'],
      ['verify', 'unknown'],
      ['page', 'skip'],
    ])
    expect(r.actions[0]!.input).toEqual({ service: 'web', attempts: 1 })
    expect(r.actions[1]!.reason).toMatch(
      /depends on steps.restart, which a dry run does not run: supply its result/,
    )
    expect(r.actions[2]!.reason).toBe('its when condition is false')
    expect(r).toMatchObject({ outcome: 'succeeded', outcomeAssumed: true })
    expect(r.outputs.map((o) => [o.id, o.decision])).toEqual([
      ['notify', 'run'],
      ['escalate', 'skip'],
    ])
    expect(r.outputs[0]!.input).toEqual({ text: 'web: succeeded' })
    expect(r.outputs[1]!.reason).toBe(
      'runs on failure; this run would succeed (assuming steps without supplied results succeed)',
    )
  })

  it('uses supplied step results, and a failed step fails the run and selects failure outputs', () => {
    const ok = dryRun(workflow, firing, { stepResults: { restart: { output: { restarted: true } } } })
    expect(ok.actions[1]).toMatchObject({ decision: 'run', input: { url: 'http://web-1:8080/health' } })
    expect(ok.actions[0]!.assumed).toEqual({ status: 'succeeded', output: { restarted: true }, error: null })

    const failed = dryRun(workflow, firing, {
      stepResults: { restart: { status: 'failed', error: { code: 'X', message: 'unit not found' } } },
    })
    expect(failed.actions.map((a) => a.decision)).toEqual(['run', 'skip', 'skip'])
    expect(failed.actions[1]!.reason).toBe('not reached: step restart failed, which fails the run')
    expect(failed).toMatchObject({ outcome: 'failed', outcomeAssumed: false })
    expect(failed.outputs.map((o) => o.decision)).toEqual(['run', 'run'])
    expect(failed.outputs[0]!.input).toEqual({ text: 'web: failed' })
  })

  it('reports an input that cannot be rendered as an error that fails the run', () => {
    const r = dryRun(workflow, event({ status: 'firing', labels: { service: 'web' } }), {
      stepResults: { restart: { output: { restarted: true } } },
    })
    expect(r.actions[1]!.decision).toBe('error')
    expect(r.actions[1]!.reason).toMatch(/^url: trigger.labels has no key "instance"; keys there: service/)
    expect(r.actions[2]!.decision).toBe('skip')
    expect(r.outcome).toBe('failed')
  })

  it('is pure: the workflow and the event are left as they were', () => {
    const before = JSON.stringify([workflow, firing])
    dryRun(workflow, firing, { stepResults: { restart: { output: { restarted: true } } } })
    expect(JSON.stringify([workflow, firing])).toBe(before)
  })
})
