import { EXIT } from '../exit-codes.ts'
import { between, brief, type Output } from '../output.ts'
import type { CommandSpec } from '../spec.ts'
import { readSse } from '../sse.ts'
import { FINISHED, printRun, type Run, workflowOf } from './run-view.ts'
import { enc } from './workflow-document.ts'

// `stavily run watch ID`: follows a run until it ends, printing each step transition.
// The live stream (GET /api/v1/stream) says *when* something happened to the run; the
// run itself (GET /runs/:id) says *what*: every stream event for this run, and a slow
// poll in case the stream drops one, re-reads the run and prints what changed. So the
// output is the same whatever the stream carries, and a missed event costs only latency.

/** Re-read the run this often even when the stream is quiet. */
const POLL_MS = 3_000
/** Without the stream (older server, proxy cutting it), poll faster. */
const POLL_NO_STREAM_MS = 1_000

const clock = () => new Date().toISOString().slice(11, 19)

function mentions(data: string, id: string): boolean {
  try {
    const d = JSON.parse(data) as Record<string, unknown>
    return (
      d.id === id || d.runId === id || (typeof d.run === 'object' && (d.run as { id?: string })?.id === id)
    )
  } catch {
    return data.includes(id)
  }
}

class Transitions {
  private runStatus: string | undefined
  private readonly steps = new Map<string, string>()
  constructor(private readonly out: Output) {}

  /** Prints what changed since the last look; the first look prints the current state. */
  show(r: Run): void {
    if (r.status !== this.runStatus) {
      this.out.line(`${clock()}  run ${this.out.status(r.status)}`)
      this.runStatus = r.status
    }
    for (const s of r.steps ?? []) {
      const key = `${s.kind}:${s.stepId}`
      const seen = this.steps.get(key)
      const now = `${s.status}/${s.attempt}`
      if (seen === now) continue
      this.steps.set(key, now)
      if (seen === undefined && s.status === 'queued') continue
      let detail = ''
      if (s.status === 'running' && s.attempt > 1) detail = ` (attempt ${s.attempt})`
      else if (FINISHED.has(s.status) || s.status === 'skipped') {
        if (s.startedAt) detail = ` in ${between(s.startedAt, s.finishedAt)}`
        if (s.error) detail += `: ${s.error.code}: ${brief(s.error.message, 100)}`
        else if (s.reason) detail += `: ${s.reason}`
      }
      this.out.line(`${clock()}  ${s.kind} ${s.stepId} ${this.out.status(s.status)}${detail}`)
    }
  }
}

export const runWatch: CommandSpec = {
  words: ['run', 'watch'],
  summary: 'follow a run until it ends, showing step transitions (exit 0 if it succeeded, 1 otherwise)',
  args: [{ name: 'ID', required: true, description: 'run id' }],
  options: {},
  details: 'With --json, prints the finished run as JSON. Ctrl-C stops watching (exit 130); the run goes on.',
  examples: ['stavily run watch 0b7c…  && echo done'],
  async run({ io, args, out, json, client }) {
    const id = args[0]!
    const api = await client()
    const abort = new AbortController()
    let wake = () => {}
    let pending = true
    const poke = () => {
      pending = true
      wake()
    }
    let interrupted = false
    const off = io.onInterrupt(() => {
      interrupted = true
      poke()
    })
    // Open the stream before the first read, so nothing that happens in between is missed.
    let streaming = false
    try {
      const res = await api.fetch('GET', '/stream', { accept: 'text/event-stream', signal: abort.signal })
      if (res.ok && res.body) {
        streaming = true
        const body = res.body
        void (async () => {
          try {
            for await (const e of readSse(body)) if (mentions(e.data, id)) poke()
          } catch {}
          streaming = false
          poke()
        })()
      } else {
        await res.body?.cancel()
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err
    }
    if (!streaming && !json) out.note('(live stream unavailable: polling)')
    let polling = !streaming
    let timer = setInterval(poke, streaming ? POLL_MS : POLL_NO_STREAM_MS)
    const transitions = new Transitions(out)
    let run: Run
    try {
      for (;;) {
        if (!pending) await new Promise<void>((r) => (wake = r))
        pending = false
        if (interrupted) {
          out.note(`stopped watching run ${id}; it goes on (\`stavily run get ${id}\`)`)
          return 130
        }
        run = await api.get<Run>(`/runs/${enc(id)}`)
        if (!json) transitions.show(run)
        if (FINISHED.has(run.status)) break
        if (!streaming && !polling) {
          // The stream ended under us: poll faster from now on.
          polling = true
          clearInterval(timer)
          timer = setInterval(poke, POLL_NO_STREAM_MS)
        }
      }
    } finally {
      clearInterval(timer)
      off()
      abort.abort()
    }
    if (json) out.json(run)
    else {
      out.line()
      printRun(out, run)
      out.note(`run ${run.id} of ${workflowOf(run)} ${run.status}`)
    }
    return run.status === 'succeeded' ? EXIT.ok : EXIT.failed
  },
}
