import { call, enroll, type Running } from '../helpers/harness.ts'

// An action agent simulated at the protocol level: it long-polls /agents/v1/instructions,
// hands each instruction to the test's handler and reports what the handler says, over
// real HTTP. The real agent process is agent-runtime's; this one is just enough protocol.

export interface WireInstruction {
  id: string
  attempt: number
  maxAttempts: number
  plugin: string
  version: string | null
  operation: string
  input: Record<string, unknown>
  config: Record<string, unknown>
  timeoutMs: number
  idempotencyKey: string
  secrets: Record<string, string>
  runId: string | null
  stepId: string | null
}

export type Outcome =
  | { status: 'succeeded'; output?: unknown }
  | { status: 'failed'; error: { code: string; message: string; retryable?: boolean } }
  /** Keep the instruction without answering (a long-running or hung plugin). */
  | 'hold'

export type Handler = (i: WireInstruction) => Outcome | Promise<Outcome>

export class SimAgent {
  readonly seen: WireInstruction[] = []
  readonly #abort = new AbortController()
  #loop: Promise<void> | undefined

  private constructor(
    readonly r: Running,
    readonly credential: string,
    readonly orgId: string,
  ) {}

  static async enroll(r: Running, pool: string, token?: string): Promise<SimAgent> {
    const a = await enroll(r, 'action', pool, token ? { token } : {})
    return new SimAgent(r, a.credential, a.orgId)
  }

  start(handler: Handler, max = 10): this {
    this.#loop = (async () => {
      while (!this.#abort.signal.aborted) {
        let got: Awaited<ReturnType<typeof call>>
        try {
          got = await call(this.r.url, 'GET', `/agents/v1/instructions?waitMs=1000&max=${max}`, {
            token: this.credential,
            signal: this.#abort.signal,
          })
        } catch {
          return
        }
        if (got.status !== 200) {
          await new Promise((res) => setTimeout(res, 100))
          continue
        }
        await Promise.all(
          (got.body.instructions as WireInstruction[]).map(async (i) => {
            this.seen.push(i)
            const o = await handler(i)
            if (o === 'hold') return
            await this.report(i, o)
          }),
        )
      }
    })()
    return this
  }

  report(i: WireInstruction, o: Exclude<Outcome, 'hold'>) {
    return call(this.r.url, 'POST', `/agents/v1/instructions/${i.id}/result`, {
      token: this.credential,
      body: { attempt: i.attempt, ...o },
    })
  }

  heartbeat() {
    return call(this.r.url, 'POST', '/agents/v1/heartbeat', { token: this.credential, body: {} })
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    await this.#loop
  }
}
