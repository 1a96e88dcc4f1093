import { defineOutput, Type } from '@stavily/sdk'

export default defineOutput({
  config: Type.Object({ channel: Type.String() }),
  input: Type.Object({ text: Type.String() }),
  // Optional: without an output schema, send returns nothing.
  output: Type.Object({ ts: Type.String() }),

  async send(ctx, input) {
    const token = await ctx.secrets.get('SLACK_TOKEN')
    const res = await ctx.fetch('https://slack.com/api/chat.postMessage', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: ctx.config.channel, text: input.text }),
    })
    const body = res.json() as { ok: boolean; ts: string }
    return { ts: body.ts }
  },
})
