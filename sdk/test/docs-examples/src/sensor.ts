import { defineSensor, Type } from '@stavily/sdk'

export default defineSensor({
  config: Type.Object({ url: Type.String(), intervalMs: Type.Optional(Type.Integer({ minimum: 1000 })) }),
  event: Type.Object({ status: Type.Integer(), url: Type.String() }),

  // Run on a schedule: look once, emit what is wrong.
  async check(ctx) {
    const res = await ctx.fetch(ctx.config.url, { timeoutMs: 5000 })
    if (!res.ok) {
      await ctx.emit({
        type: 'site.down',
        data: { status: res.status, url: ctx.config.url },
        // One outage, one run: repeated checks during it carry the same key.
        dedupeKey: `down:${ctx.config.url}:${res.status}`,
      })
    }
  },

  // Or long-running: return when the agent asks the sensor to stop.
  async watch(ctx) {
    let last = (await ctx.state.get('lastStatus')) as number | undefined
    while (!ctx.isStopping()) {
      const res = await ctx.fetch(ctx.config.url)
      if (res.status !== last) {
        await ctx.emit({ type: 'site.status-changed', data: { status: res.status, url: ctx.config.url } })
        last = res.status
        await ctx.state.set('lastStatus', last)
      }
      await ctx.sleep(ctx.config.intervalMs ?? 30_000)
    }
  },
})
