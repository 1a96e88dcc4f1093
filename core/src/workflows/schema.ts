// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the workflow template syntax, not a JS template literal
import { type Static, Type } from 'typebox'
import { SECRET_NAME } from '../secrets/policy.ts'
import { DURATION_PATTERN } from './duration.ts'
import { WORKFLOW_POLICY } from './policy.ts'
import { WEBHOOK_PROVIDERS } from './webhook/providers/types.ts'

// The workflow document as operators write it (YAML or JSON). Each schema carries an
// `expected` text: validation messages say it verbatim, so they read as a sentence and not
// as JSON Schema jargon. Cross-field rules (one trigger kind, unique ids, references,
// ranges, cron) are in semantic-checks.ts.

const Name = Type.String({
  pattern: '^[a-z0-9][a-z0-9._-]{0,99}$',
  expected:
    'a name of lower-case letters, digits, ".", "_" and "-" (at most 100 characters, starting with a letter or digit)',
})
const StepId = Type.String({
  pattern: '^[a-z][a-z0-9_-]{0,62}$',
  expected:
    'an id of lower-case letters, digits, "_" and "-" that starts with a letter (at most 63 characters)',
})
const PluginName = Type.String({
  pattern: '^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$',
  maxLength: 214,
  expected: 'an npm package name such as "@stavily/plugin-http"',
})
const VersionRange = Type.String({
  minLength: 1,
  maxLength: 256,
  expected: 'a semver range such as "^1.2.0" or "1.x"',
})
const Pool = Type.String({
  pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
  expected: 'a pool name of lower-case letters, digits, "_" and "-" (at most 63 characters)',
})
const Duration = (what: string) =>
  Type.String({
    pattern: DURATION_PATTERN,
    expected: `${what} such as "30s", "5m" or "1h" (units: ms, s, m, h, d)`,
  })
const Condition = Type.Union([Type.Boolean(), Type.String({ minLength: 1, maxLength: 4096 })], {
  expected: `true, false or an expression such as "trigger.labels.severity == 'critical'"`,
})
const Mapping = (what: string) =>
  Type.Record(Type.String(), Type.Unknown(), { expected: `${what} (a mapping of keys to values)` })
const Key = Type.String({
  minLength: 1,
  maxLength: 1024,
  expected: 'a template such as "${{ trigger.labels.service }}"',
})

export const RetrySchema = Type.Object(
  {
    limit: Type.Integer({
      minimum: 0,
      maximum: WORKFLOW_POLICY.maxRetryLimit,
      expected: `an integer from 0 to ${WORKFLOW_POLICY.maxRetryLimit}`,
    }),
    backoff: Type.Optional(
      Type.Union([Type.Literal('fixed'), Type.Literal('exponential')], {
        expected: '"fixed" or "exponential"',
      }),
    ),
    delay: Type.Optional(Duration('the first retry delay')),
  },
  {
    additionalProperties: false,
    expected: 'a retry policy such as { limit: 3, backoff: exponential, delay: 5s }',
  },
)

const stepFields = {
  id: StepId,
  name: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, expected: 'a display name (1 to 200 characters)' }),
  ),
  plugin: PluginName,
  version: VersionRange,
  config: Type.Optional(Mapping('the plugin configuration')),
  input: Type.Optional(Mapping('the step input')),
  pool: Type.Optional(Pool),
  timeout: Type.Optional(Duration('a duration')),
  retry: Type.Optional(RetrySchema),
  when: Type.Optional(Condition),
}

export const ActionSchema = Type.Object(stepFields, {
  additionalProperties: false,
  expected: 'an action: { id, plugin, version, input, ... }',
})

export const OutputSchema = Type.Object(
  {
    ...stepFields,
    on: Type.Optional(
      Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('always')], {
        expected: '"success", "failure" or "always"',
      }),
    ),
  },
  { additionalProperties: false, expected: 'an output: { id, plugin, version, input, on, ... }' },
)

export const SensorTriggerSchema = Type.Object(
  {
    plugin: PluginName,
    version: VersionRange,
    config: Type.Optional(Mapping('the sensor configuration')),
    pool: Type.Optional(Pool),
    interval: Type.Optional(Duration('a polling interval')),
    watch: Type.Optional(Type.Boolean({ expected: 'true or false' })),
    filter: Type.Optional(Condition),
  },
  {
    additionalProperties: false,
    expected: 'a sensor trigger: { plugin, version, config, interval or watch, filter }',
  },
)

/**
 * Limits of a webhook's `respond`: how long a hook request may wait for its run, and how
 * many may wait at once on one orchestrator instance (further ones are answered 202 at once),
 * so waiting callers cannot hold the server's connections.
 */
export const RESPOND_POLICY = {
  maxWaitMs: 60_000,
  maxWaiting: 100,
  minStatus: 200,
  maxStatus: 599,
} as const

export const RespondSchema = Type.Object(
  {
    wait: Duration(`how long to wait for the run (at most ${RESPOND_POLICY.maxWaitMs / 1000}s)`),
    status: Type.Optional(
      Type.Union(
        [
          Type.Integer({ minimum: RESPOND_POLICY.minStatus, maximum: RESPOND_POLICY.maxStatus }),
          Type.String({ minLength: 1, maxLength: 4096 }),
        ],
        {
          expected: `an HTTP status from ${RESPOND_POLICY.minStatus} to ${RESPOND_POLICY.maxStatus}, or a template such as "\${{ steps.check.output.code }}"`,
        },
      ),
    ),
    body: Type.Optional(Type.Unknown()),
  },
  {
    additionalProperties: false,
    expected: 'a response: { wait, status, body }',
  },
)

export const WebhookTriggerSchema = Type.Object(
  {
    secret: Type.String({
      pattern: SECRET_NAME.source,
      expected:
        'the name of the secret that signs requests (letters, digits and "_", at most 128 characters)',
    }),
    provider: Type.Optional(
      Type.Union(
        WEBHOOK_PROVIDERS.map((p) => Type.Literal(p)),
        { expected: `who sends the requests: ${WEBHOOK_PROVIDERS.map((p) => `"${p}"`).join(', ')}` },
      ),
    ),
    filter: Type.Optional(Condition),
    respond: Type.Optional(RespondSchema),
  },
  { additionalProperties: false, expected: 'a webhook trigger: { secret, provider, filter, respond }' },
)

export const ScheduleTriggerSchema = Type.Object(
  {
    cron: Type.String({ minLength: 1, maxLength: 200, expected: 'a cron expression such as "*/5 * * * *"' }),
    timezone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, expected: 'an IANA time zone such as "Europe/Paris"' }),
    ),
  },
  { additionalProperties: false, expected: 'a schedule trigger: { cron, timezone }' },
)

export const TriggerSchema = Type.Object(
  {
    sensor: Type.Optional(SensorTriggerSchema),
    webhook: Type.Optional(WebhookTriggerSchema),
    schedule: Type.Optional(ScheduleTriggerSchema),
  },
  { additionalProperties: false, expected: 'a trigger with one of: sensor, webhook, schedule' },
)

const Window = Type.Object(
  { window: Duration('a window'), key: Type.Optional(Key) },
  {
    additionalProperties: false,
    expected: 'a window such as { window: 5m, key: "${{ trigger.labels.service }}" }',
  },
)

export const WorkflowDocumentSchema = Type.Object(
  {
    name: Name,
    description: Type.Optional(
      Type.String({ maxLength: 2000, expected: 'a description (at most 2000 characters)' }),
    ),
    enabled: Type.Optional(Type.Boolean({ expected: 'true or false' })),
    trigger: TriggerSchema,
    actions: Type.Optional(
      Type.Array(ActionSchema, {
        maxItems: WORKFLOW_POLICY.maxActions,
        expected: `a list of at most ${WORKFLOW_POLICY.maxActions} actions`,
      }),
    ),
    outputs: Type.Optional(
      Type.Array(OutputSchema, {
        maxItems: WORKFLOW_POLICY.maxOutputs,
        expected: `a list of at most ${WORKFLOW_POLICY.maxOutputs} outputs`,
      }),
    ),
    concurrency: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: WORKFLOW_POLICY.maxConcurrency,
        expected: `an integer from 1 to ${WORKFLOW_POLICY.maxConcurrency} (runs at once)`,
      }),
    ),
    debounce: Type.Optional(Window),
    throttle: Type.Optional(Window),
  },
  { additionalProperties: false, expected: 'a workflow: { name, trigger, actions, outputs, ... }' },
)

/** The document as written, before defaults. */
export type WorkflowDocument = Static<typeof WorkflowDocumentSchema>
