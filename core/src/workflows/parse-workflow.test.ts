// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow template syntax
import { describe, expect, it } from 'vitest'
import { WorkflowError } from './errors.ts'
import { formatIssue } from './issues.ts'
import { loadWorkflow, parseWorkflow, validateWorkflow } from './parse-workflow.ts'

const GOOD = `name: restart-on-alert
description: Restart the service an alert names, then tell the team.
trigger:
  sensor:
    plugin: "@stavily/plugin-prometheus"
    version: ^1.2.0
    config:
      url: http://prometheus:9090
      query: up == 0
    interval: 30s
    filter: \${{ trigger.labels.severity == 'critical' }}
actions:
  - id: restart
    plugin: "@stavily/plugin-systemd"
    version: ~2.0.0
    pool: web-servers
    input:
      service: \${{ trigger.labels.service }}
    timeout: 2m
    retry:
      limit: 2
      backoff: fixed
      delay: 10s
  - id: verify
    plugin: "@stavily/plugin-http"
    version: "1.x"
    when: steps.restart.output.restarted
    input:
      url: "http://\${{ trigger.labels.instance }}/health"
outputs:
  - id: notify
    plugin: "@stavily/plugin-slack"
    version: ^1.0.0
    on: always
    input:
      text: "\${{ trigger.labels.service }} restarted: \${{ steps.restart.output.restarted }}"
debounce:
  window: 5m
  key: \${{ trigger.labels.service }}
concurrency: 1
`

function issues(text: string): string[] {
  const r = parseWorkflow(text)
  if (r.ok) throw new Error('expected the document to be refused')
  return r.issues.map(formatIssue)
}

describe('parseWorkflow', () => {
  it('reads a valid YAML workflow and applies defaults', () => {
    const r = parseWorkflow(GOOD)
    if (!r.ok) throw new Error(r.issues.map(formatIssue).join('\n'))
    const w = r.workflow
    expect(w.trigger).toEqual({
      kind: 'sensor',
      plugin: '@stavily/plugin-prometheus',
      version: '^1.2.0',
      config: { url: 'http://prometheus:9090', query: 'up == 0' },
      pool: 'default',
      intervalMs: 30_000,
      watch: false,
      filter: "${{ trigger.labels.severity == 'critical' }}",
    })
    expect(w.actions[0]).toMatchObject({
      id: 'restart',
      pool: 'web-servers',
      timeoutMs: 120_000,
      retry: { limit: 2, backoff: 'fixed', delayMs: 10_000 },
      when: null,
    })
    expect(w.actions[1]).toMatchObject({
      pool: 'default',
      timeoutMs: 300_000,
      retry: { limit: 3, backoff: 'exponential', delayMs: 1_000 },
    })
    expect(w.outputs[0]).toMatchObject({ id: 'notify', on: 'always' })
    expect(w.debounce).toEqual({ windowMs: 300_000, key: '${{ trigger.labels.service }}' })
    expect(w).toMatchObject({ enabled: true, concurrency: 1, throttle: null })
  })

  it('reads the same workflow written as JSON, with positions', () => {
    const json = JSON.stringify(
      {
        name: 'hook',
        trigger: { webhook: { secret: 'HOOK_KEY' } },
        actions: [{ id: 'a', plugin: 'p', version: '^1', retry: { limit: 'three' } }],
      },
      null,
      2,
    )
    expect(issues(json)).toEqual([
      'actions[0].retry.limit: expected an integer from 0 to 20, got "three" (line 14, column 18)',
    ])
    const ok = parseWorkflow(json.replace('"three"', '1'))
    expect(ok.ok && ok.workflow.trigger).toEqual({
      kind: 'webhook',
      secret: 'HOOK_KEY',
      provider: 'stavily',
      filter: null,
    })
  })

  it('reports every schema problem at once, each with its path, line and column', () => {
    const text = `name: Bad Name
trigger:
  schedule:
    cron: "0 * * * *"
actions:
  - id: one
    plugin: p
    version: ^1.0.0
    retry:
      limit: three
  - id: two
    plugin: p
    timout: 5m
outputs:
  - id: out
    plugin: p
    version: ^1
    on: sometimes
`
    expect(issues(text)).toEqual([
      'name: expected a name of lower-case letters, digits, ".", "_" and "-" (at most 100 characters, starting with a letter or digit), got "Bad Name" (line 1, column 7)',
      'actions[0].retry.limit: expected an integer from 0 to 20, got "three" (line 10, column 14)',
      'actions[1].version: is required: expected a semver range such as "^1.2.0" or "1.x" (line 11, column 5)',
      'actions[1].timout: unknown field; did you mean "timeout"? expected one of: id, name, plugin, version, config, input, pool, timeout, retry, when (line 13, column 5)',
      'outputs[0].on: expected "success", "failure" or "always", got "sometimes" (line 18, column 9)',
    ])
  })

  it('reports semantic problems: trigger kinds, duplicate ids, ranges, cron, time zone, references', () => {
    const text = `name: sem
trigger:
  schedule:
    cron: "61 * * * *"
    timezone: Mars/Olympus
  webhook:
    secret: K
actions:
  - id: a
    plugin: p
    version: not-a-range
    input:
      x: \${{ steps.b.output.y }}
      y: "\${{ secrets.TOKEN }}"
    config:
      z: \${{ trigger.x }}
  - id: b
    plugin: p
    version: ^1
    when: steps.a.outputs.ok
  - id: a
    plugin: p
    version: ^1
    timeout: 2d
`
    const found = issues(text)
    expect(found).toEqual([
      'trigger: expected exactly one of sensor, webhook or schedule, got webhook and schedule (line 3, column 3)',
      'trigger.schedule.timezone: expected an IANA time zone such as "Europe/Paris", got "Mars/Olympus" (line 5, column 15)',
      expect.stringMatching(
        /^trigger\.schedule\.cron: not a valid cron expression "61 \* \* \* \*": .* \(line 4, column 11\)$/,
      ),
      'actions[0].version: expected a semver range such as "^1.2.0" or "1.x", got "not-a-range" (line 11, column 14)',
      'actions[0].config.z: config is not templated: move values that use ${{ }} to input (line 16, column 10)',
      'actions[0].input.x: steps.b runs later: a step may read only steps that finish before it (in expression "steps.b.output.y" at column 7) (line 13, column 10)',
      expect.stringMatching(
        /^actions\[0\]\.input\.y: secrets are not available in expressions.* \(line 14, column 10\)$/,
      ),
      'actions[1].when: steps.a has no field "outputs"; a step has: status, output, error (in expression "steps.a.outputs.ok" at column 9) (line 20, column 11)',
      'actions[2].id: duplicate step id "a" (already used by actions[0]); step ids must be unique (line 21, column 9)',
      'actions[2].timeout: expected a duration from 1 ms to 86400000 ms, got "2d" (172800000 ms) (line 24, column 14)',
    ])
  })

  it('reports expression syntax errors at the field that holds them', () => {
    const text = `name: syn
trigger:
  webhook:
    secret: K
    filter: trigger.a = 1
actions:
  - id: a
    plugin: p
    version: ^1
    input:
      ok: \${{ trigger.a }}
      bad: \${{ trigger.a ==
`
    expect(issues(text)).toEqual([
      'trigger.webhook.filter: unexpected character "=" (use == to compare) (in expression "trigger.a = 1" at column 11) (line 5, column 13)',
      expect.stringMatching(/^actions\[0\]\.input\.bad: .*never closed.* \(line 12, column 12\)$/),
    ])
  })

  it('refuses YAML syntax errors, several documents, empty text and the wrong top-level type', () => {
    expect(issues('name: [unclosed\n')[0]).toMatch(/^not valid YAML or JSON: .*\(line \d+, column \d+\)$/)
    expect(issues('name: a\n---\nname: b\n')).toEqual([
      'expected one document, got several (remove the "---") (line 2, column 1)',
    ])
    expect(issues('')).toEqual(['document is empty: expected a workflow'])
    expect(issues('- a\n- b\n')).toEqual([
      'expected a workflow: { name, trigger, actions, outputs, ... }, got a list (line 1, column 1)',
    ])
    expect(issues('name: a\nname: b\n')[0]).toMatch(/not valid YAML or JSON: Map keys must be unique/)
    // One cause, one message, with the fix for the usual trap.
    const flow = issues('name: a\nactions:\n  - { id: a, input: { ref: ${{ trigger.ref }} } }\n')
    expect(flow).toHaveLength(1)
    expect(flow[0]).toMatch(
      /^not valid YAML or JSON: .*; a value holding \$\{\{ \}\} inside \{ \} or \[ \] must be quoted \(line 3, column \d+\)$/,
    )
  })

  it('refuses alias bombs and oversized documents', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
`
    expect(issues(bomb)[0]).toMatch(/^cannot read the document: .*[Ee]xcessive alias count/)
    expect(issues(`name: x\ndescription: "${'y'.repeat(300_000)}"\n`)[0]).toMatch(
      /^document is \d+ bytes; at most 262144/,
    )
  })

  it('refuses what JSON cannot hold: binary, sets, out-of-range numbers', () => {
    const text = `name: j
trigger: { webhook: { secret: K } }
actions:
  - id: a
    plugin: p
    version: "^1"
    input:
      blob: !!binary aGVsbG8=
      big: 1e400
      ok: [1, 2]
`
    expect(issues(text)).toEqual([
      'actions[0].input.blob: expected JSON data (text, number, true/false, null, list or mapping), got binary data (line 8, column 22)',
      'actions[0].input.big: expected a number a double can hold, got Infinity (line 9, column 12)',
    ])
  })

  it('needs at least one step and refuses a watching sensor with an interval', () => {
    const text = `name: empty
trigger:
  sensor:
    plugin: p
    version: ^1
    watch: true
    interval: 10s
`
    expect(issues(text)).toEqual([
      'trigger.sensor.interval: a watching sensor has no interval: remove interval or set watch: false (line 7, column 15)',
      'actions: a workflow needs at least one action or output (line 1, column 1)',
    ])
  })

  it('validates a parsed object without positions, and loadWorkflow throws with every issue', () => {
    const r = validateWorkflow({
      name: 'x',
      trigger: { schedule: { cron: '* * * *' } },
      outputs: [{ id: 'o', plugin: 'p', version: '^1' }],
    })
    expect(r.ok ? [] : r.issues).toEqual([
      {
        path: 'trigger.schedule.cron',
        message: 'expected 5 fields (minute hour day-of-month month day-of-week), got 4 in "* * * *"',
      },
    ])
    try {
      loadWorkflow('name: x\ntrigger: {}\n')
      throw new Error('expected a throw')
    } catch (err) {
      expect(err).toBeInstanceOf(WorkflowError)
      const e = err as WorkflowError
      expect(e.code).toBe('STAVILY_ERR_WORKFLOW_INVALID')
      expect(e.statusCode).toBe(400)
      expect(e.message).toBe(
        'workflow is invalid (2 problems):\n  - trigger: expected exactly one of sensor, webhook or schedule, got none (line 2, column 10)\n  - actions: a workflow needs at least one action or output (line 1, column 1)',
      )
      expect(e.data?.issues).toHaveLength(2)
    }
  })

  it('keeps YAML 1.2 semantics: "on" is a key and "yes" is a string', () => {
    const r = parseWorkflow(`name: y
trigger: { webhook: { secret: K } }
outputs:
  - { id: o, plugin: p, version: "^1", on: failure, input: { flag: yes } }
`)
    expect(r.ok && r.workflow.outputs[0]).toMatchObject({ on: 'failure', input: { flag: 'yes' } })
  })
})
