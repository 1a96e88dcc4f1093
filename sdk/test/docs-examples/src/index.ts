import { defineAction, PluginError, Type } from '@stavily/sdk'

export default defineAction({
  // What the operator configures once, when they set the plugin up.
  config: Type.Object({ environment: Type.String({ minLength: 1 }) }),
  // What a workflow step passes in, and what the action returns.
  input: Type.Object({ service: Type.String({ pattern: '^[A-Za-z0-9@._-]+$' }) }),
  output: Type.Object({ restarted: Type.Boolean(), checkedAt: Type.String() }),

  async run(ctx, input) {
    // argv, never a shell: the service name is one argument whatever it contains.
    const result = await ctx.exec('systemctl', ['restart', input.service], { timeoutMs: 30_000 })
    if (result.timedOut) {
      throw new PluginError('RESTART_TIMEOUT', `restart of ${input.service} timed out`, { retryable: true })
    }

    const token = await ctx.secrets.get('STATUS_TOKEN')
    const res = await ctx.fetch(`https://status.example.com/api/services/${input.service}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    if (!res.ok) {
      throw new PluginError('STATUS_UNAVAILABLE', `status API answered ${res.status}`, {
        retryable: res.status >= 500,
        data: { status: res.status },
      })
    }
    const { checkedAt } = res.json() as { checkedAt: string }

    ctx.log.info('restarted', { service: input.service, environment: ctx.config.environment })
    return { restarted: result.code === 0, checkedAt }
  },
})
