// The demo's web service and webhook receiver (scripts/demo/*.mjs) as child processes.
import { join } from 'node:path'
import { type Child, startChild } from './child.ts'
import { SOURCE_ROOT } from './source.ts'

export interface DemoService {
  child: Child
  web: string
  control: string
  fail(): Promise<void>
  state(): Promise<{ healthy: boolean; restarts: number; failures: number; checks: number }>
}

export async function startDemoService(): Promise<DemoService> {
  const child = startChild('demo-service', process.execPath, [join(SOURCE_ROOT, 'scripts/demo/service.mjs')])
  const ready = JSON.parse(await child.waitForLine((l) => l.includes('"ready":true'), 10_000)) as {
    web: string
    control: string
  }
  return {
    child,
    ...ready,
    async fail() {
      const res = await fetch(`${ready.control}/fail`, { method: 'POST' })
      if (!res.ok) throw new Error(`demo service /fail: HTTP ${res.status}`)
    },
    async state() {
      return (await (await fetch(`${ready.control}/state`)).json()) as {
        healthy: boolean
        restarts: number
        failures: number
        checks: number
      }
    },
  }
}

export interface Receiver {
  child: Child
  url: string
  /** Bodies received so far, in order. */
  received(): { received: unknown; path: string; idempotencyKey: string | null }[]
}

export async function startReceiver(): Promise<Receiver> {
  const child = startChild('receiver', process.execPath, [join(SOURCE_ROOT, 'scripts/demo/receiver.mjs')])
  const ready = JSON.parse(await child.waitForLine((l) => l.includes('"ready":true'), 10_000)) as {
    url: string
  }
  return {
    child,
    url: ready.url,
    received: () => child.lines.filter((l) => l.startsWith('{"received"')).map((l) => JSON.parse(l)),
  }
}
