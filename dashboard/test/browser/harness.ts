import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  call,
  enroll,
  HOOK_SECRET,
  PluginRepo,
  type Running,
  type Setup,
  SimAgent,
  setups,
  token,
  type WireInstruction,
} from '@stavily/core/testing'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, expect } from 'vitest'

// The browser tests' stage: a real orchestrator (the core tests' harness: PGlite always,
// PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set, a schema and key prefix of its
// own, dropped afterwards) serving the dashboard's build at `/`, with an admin and a viewer
// token, a simulated action agent answering over the agent API, a published plugin, and
// Debian's Chromium driven through playwright-core (no browser download).

const CHROMIUM = '/usr/bin/chromium'
const BUILD = fileURLToPath(new URL('../../build/', import.meta.url))
const SCREENSHOTS = fileURLToPath(new URL('../../../docs/images/dashboard/', import.meta.url))

/** The pool the simulated agent serves and the test workflows run in. */
export const POOL = 'web'
/** The plugin the tests publish (two versions) and the workflows call. */
export const PLUGIN = '@acme/restart'
/** The version the simulated agent reports. */
export const AGENT_VERSION = '0.9.0-sim'

export interface Stage {
  name: string
  r: Running
  /** The operator listener: the dashboard at `/`, the API at `/api/v1`. */
  base: string
  admin: string
  viewer: string
  agent: SimAgent
  /** Steps whose `service` input is listed here are held until released. */
  gate: Gate
  /** Answers the API as `token` (the admin by default). */
  api(method: string, path: string, body?: unknown, as?: string): ReturnType<typeof call>
  /** A fresh browser context (its own session storage) with a page on the dashboard; a laptop's size by default. */
  page(viewport?: { width: number; height: number }): Promise<Page>
  /** A heartbeat from the simulated agent, so it shows online (presence lapses after 45 s). */
  beat(): Promise<void>
  close(): Promise<void>
}

/** Holds the simulated agent's answer for a step until the test lets it go. */
export class Gate {
  readonly #held = new Map<string, () => void>()
  readonly #waiting = new Map<string, Promise<void>>()

  hold(service: string): void {
    let release!: () => void
    this.#waiting.set(
      service,
      new Promise<void>((r) => {
        release = r
      }),
    )
    this.#held.set(service, release)
  }

  release(service: string): void {
    this.#held.get(service)?.()
    this.#held.delete(service)
  }

  /** Lets every held step go (a failed test must not leave the agent's loop waiting). */
  releaseAll(): void {
    for (const service of [...this.#held.keys()]) this.release(service)
  }

  wait(service: string): Promise<void> | undefined {
    return this.#waiting.get(service)
  }
}

let browser: Browser | undefined
const contexts: BrowserContext[] = []

async function launch(): Promise<Browser> {
  browser ??= await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium's sandbox needs user namespaces it does not get as root (CI runs as root).
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  })
  return browser
}

afterAll(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {})
  await browser?.close()
  browser = undefined
})

/** One stage per backend; each test file opens its own (in beforeAll) and closes it. */
export function backends(): Setup[] {
  return setups()
}

/**
 * What the simulated agent does with a step: a `service` named "broken" fails with a
 * message naming it, a held one waits for its gate, any other succeeds.
 */
function answer(gate: Gate) {
  return async (i: WireInstruction) => {
    const service = String(i.input.service ?? '')
    await gate.wait(service)
    if (service.startsWith('broken'))
      return {
        status: 'failed' as const,
        error: { code: 'UNIT_NOT_FOUND', message: `no unit named ${service}.service`, retryable: false },
      }
    return { status: 'succeeded' as const, output: { unit: `${service}.service`, restarted: true } }
  }
}

export async function openStage(setup: Setup): Promise<Stage> {
  if (!existsSync(`${BUILD}index.html`))
    throw new Error(`the dashboard is not built (${BUILD}): run npm run build -w @stavily/dashboard`)
  await setup.prepare()
  const r = await setup.start({ registry: { remotes: { allowFile: true } }, dashboardDir: BUILD })
  const base = r.operatorUrl
  const viewer = (await token(r, 'viewer')).token
  const api: Stage['api'] = (method, path, body, as = r.admin) =>
    call(base, method, `/api/v1${path}`, { token: as, ...(body === undefined ? {} : { body }) })

  // The plugin the workflows call, published from a real Git repository in two versions,
  // and the secret that signs the test webhooks.
  const repo = new PluginRepo(PLUGIN)
  try {
    for (const version of ['1.0.0', '1.1.0']) {
      const pub = await api('POST', '/registry/plugins', { repo: repo.url, ref: repo.release(version) })
      if (pub.status !== 201) throw new Error(`publish ${version}: ${pub.status} ${JSON.stringify(pub.body)}`)
    }
  } finally {
    repo.remove()
  }
  const enabled = await api('POST', '/plugins/enable', { name: PLUGIN, pool: POOL, range: '^1' })
  if (enabled.status !== 200) throw new Error(`enable: ${enabled.status} ${JSON.stringify(enabled.body)}`)
  const secret = await api('PUT', '/secrets/HOOK_KEY', { value: HOOK_SECRET })
  if (secret.status !== 201) throw new Error(`secret: ${secret.status} ${JSON.stringify(secret.body)}`)

  const gate = new Gate()
  const agent = (await SimAgent.enroll(r, POOL)).start(answer(gate))
  const beat = async () => {
    const res = await call(r.url, 'POST', '/agents/v1/heartbeat', {
      token: agent.credential,
      body: { version: AGENT_VERSION },
    })
    if (res.status !== 200) throw new Error(`heartbeat: ${res.status} ${JSON.stringify(res.body)}`)
  }
  await beat()
  const b = await launch()
  const own: BrowserContext[] = []

  return {
    name: setup.name,
    r,
    base,
    admin: r.admin,
    viewer,
    agent,
    gate,
    api,
    async page(viewport = { width: 1280, height: 800 }) {
      const context = await b.newContext({ baseURL: base, viewport })
      contexts.push(context)
      own.push(context)
      const page = await context.newPage()
      return page
    },
    beat,
    async close() {
      for (const c of own.splice(0)) await c.close().catch(() => {})
      gate.releaseAll()
      await agent.stop()
      await setup.cleanup()
    },
  }
}

/** Enrolls a sensor agent (never polled: it stays as registered) for the agents page. */
export async function sensorAgent(stage: Stage, pool = 'edge', name = 'edge-01') {
  return enroll(stage.r, 'sensor', pool, { name })
}

/**
 * Saves a screenshot for docs/dashboard.md when STAVILY_SCREENSHOTS=1 (the docs' images are
 * taken by the tests, so they show the dashboard as it is): the whole page, or only the
 * window for a long list.
 */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
  if (process.env.STAVILY_SCREENSHOTS !== '1') return
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: opts.fullPage ?? true })
}

/** Signs in on the sign-in form with `token` and waits for the role the API reports. */
export async function signIn(
  page: Page,
  token: string,
  role: 'admin' | 'viewer' | 'operator',
  path = '/runs',
) {
  await page.goto(path)
  await page.getByLabel('API token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await eventually(() => page.getByTestId('role').textContent()).toBe(role)
}

/** A webhook workflow with one step on the simulated agent's pool (its `service` from the event). */
export function hookWorkflow(name: string): string {
  return `name: ${name}
trigger:
  webhook:
    secret: HOOK_KEY
actions:
  - id: restart
    plugin: "${PLUGIN}"
    version: ^1.0.0
    pool: ${POOL}
    input:
      service: \${{ trigger.service }}
`
}

/** Applies {@link hookWorkflow} through the API (unchanged when it exists) and answers its id. */
export async function applyHookWorkflow(stage: Stage, name: string): Promise<string> {
  const res = await stage.api('POST', '/workflows', { document: hookWorkflow(name) })
  if (res.status !== 200 && res.status !== 201)
    throw new Error(`apply: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.workflow.id
}

/**
 * `expect.poll` with a deadline for a busy machine (its default is 1 s): the page shows what
 * the test waits for when the stream, the API and the browser have done their part.
 */
export function eventually<T>(read: () => T | Promise<T>) {
  return expect.poll(read, { timeout: 15_000, interval: 50 })
}
