import { defineAction, PluginError, Type } from '@stavily/sdk'

/**
 * A systemd unit name: letters, digits and `:_.\@-`, never starting with `-`, so a
 * workflow's input can never turn into a systemctl option such as `--force`.
 */
const UNIT_NAME = '^[A-Za-z0-9:_.\\\\@][A-Za-z0-9:_.\\\\@-]*$'

/** systemctl normally answers within seconds; the limit stops a hung unit from holding the step. */
const DEFAULT_TIMEOUT_SECONDS = 30

export default defineAction({
  config: Type.Object({
    timeoutSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 300, description: 'How long systemctl may take (default 30)' }),
    ),
  }),
  input: Type.Object({
    service: Type.String({
      pattern: UNIT_NAME,
      maxLength: 256,
      description: 'The systemd unit to restart, e.g. nginx or nginx.service',
    }),
  }),
  output: Type.Object({
    restarted: Type.Boolean(),
    service: Type.String(),
  }),

  async run(ctx, input) {
    const timeoutSeconds = ctx.config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS
    // argv, never a shell: the service name is one argument whatever it contains.
    const result = await ctx.exec('systemctl', ['restart', input.service], {
      timeoutMs: timeoutSeconds * 1000,
    })

    if (result.timedOut) {
      // A slow stop or start often succeeds on a second try: let the orchestrator retry.
      throw new PluginError(
        'RESTART_TIMEOUT',
        `systemctl restart ${input.service} did not finish within ${timeoutSeconds}s`,
        { retryable: true, data: { service: input.service, timeoutSeconds } },
      )
    }
    if (result.code !== 0) {
      // A missing unit or a broken config will fail the same way again: not retryable.
      throw new PluginError(
        'RESTART_FAILED',
        `systemctl restart ${input.service} exited with code ${result.code}: ${result.stderr.trim() || 'no error output'}`,
        { data: { service: input.service, code: result.code, stderr: result.stderr } },
      )
    }

    ctx.log.info('service restarted', { service: input.service })
    return { restarted: true, service: input.service }
  },
})
