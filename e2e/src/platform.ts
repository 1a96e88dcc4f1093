// The whole platform for one test file: an orchestrator (PostgreSQL + Redis when
// DATABASE_URL / REDIS_URL are set), a git daemon serving a snapshot of the first-party
// plugins, plugins published and enabled through the operator API, and agents as processes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AgentOptions, type AgentProcess, enrollmentToken, startAgent } from './agent.ts'
import { type Api, operatorApi } from './api.ts'
import { dropPlatformData } from './cleanup.ts'
import { type GitDaemon, PluginRepo, startGitDaemon } from './git.ts'
import { waitFor } from './net.ts'
import { type Orchestrator, restartOrchestrator, startOrchestrator } from './orchestrator.ts'

export interface PublishedVersion {
  name: string
  version: string
  digest: string
}

export interface Platform {
  dir: string
  orchestrator: Orchestrator
  api: Api
  repo: PluginRepo
  daemon: GitDaemon
  /** The registry's root.json, written to a file for agents' --trusted-root. */
  trustedRoot: string
  agents: AgentProcess[]
  /** Publishes plugins/<dir> of the snapshot repository at `ref` (default: main). */
  publish(dir: string, ref?: string): Promise<PublishedVersion>
  /** Enables `name` for `pool` at `range` (an exact version pins it). */
  enable(name: string, range: string, pool?: string): Promise<{ version: string }>
  /** Enrolls and starts an agent (options.dir defaults to a folder of its own). */
  agent(
    o: Omit<AgentOptions, 'dir' | 'orchestratorUrl' | 'trustedRoot'> & { dir?: string },
  ): Promise<AgentProcess>
  /** Applies a workflow document (YAML or JSON text). */
  apply(document: string): Promise<{ workflow: { id: string; name: string } }>
  /** PUT /secrets/:name (write-only). */
  setSecret(name: string, value: string): Promise<unknown>
  run(id: string): Promise<Run>
  /** Polls GET /runs/:id until the run has finished (succeeded, failed or cancelled). */
  waitForRun(id: string, timeoutMs?: number): Promise<Run>
  /** The runs of a workflow, newest first. */
  runsOf(workflowId: string): Promise<Run[]>
  /** kill -9 the orchestrator and start it again on the same data. */
  crashOrchestrator(): Promise<void>
  /** Output of every process, for failure messages. */
  logs(): string
  close(): Promise<void>
}

export interface PlatformOptions {
  /** Extra environment of the orchestrator (tuning such as STAVILY_LEASE_TTL_MS). */
  orchestratorEnv?: NodeJS.ProcessEnv
}

export interface Run {
  id: string
  status: string
  workflowId: string
  event: { data: Record<string, unknown> }
  steps: {
    stepId: string
    kind: string
    status: string
    attempt: number
    output: unknown
    error: { code: string; message: string } | null
    instructionId: string | null
  }[]
}

const FINISHED = ['succeeded', 'failed', 'cancelled']

export async function startPlatform(label: string, opts: PlatformOptions = {}): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), `stavily-e2e-${label}-`))
  const orchestrator = await startOrchestrator({
    dir: join(dir, 'orchestrator'),
    ...(opts.orchestratorEnv ? { env: opts.orchestratorEnv } : {}),
  })
  const api = operatorApi(orchestrator.operatorUrl, orchestrator.adminToken)
  const repo = PluginRepo.snapshot(join(dir, 'git'))
  const daemon = await startGitDaemon(join(dir, 'git'))
  const rootRes = await fetch(`${api.base}/registry/tuf/1.root.json`)
  const trustedRoot = join(dir, 'root.json')
  if (rootRes.ok) writeFileSync(trustedRoot, await rootRes.text())
  const platform: Platform = {
    dir,
    orchestrator,
    api,
    repo,
    daemon,
    trustedRoot,
    agents: [],
    async publish(pluginDir, ref = 'main') {
      const r = await api.post<{ version: PublishedVersion }>('/registry/plugins', {
        repo: daemon.url(repo),
        ref,
        path: `plugins/${pluginDir}`,
      })
      return r.version
    },
    enable: (name, range, pool = 'default') => api.post('/plugins/enable', { name, pool, range }),
    async agent(o) {
      const token = await enrollmentToken(api, o.kind, o.pool ?? 'default')
      const a = startAgent(
        {
          ...o,
          dir: o.dir ?? join(dir, 'agents', o.name),
          orchestratorUrl: platform.orchestrator.agentUrl,
          ...(rootRes.ok ? { trustedRoot } : {}),
        },
        token,
      )
      platform.agents.push(a)
      return a
    },
    apply: (document) => api.post('/workflows', { document }),
    setSecret: (name, value) => api.put(`/secrets/${name}`, { value }),
    run: (id) => api.get<Run>(`/runs/${id}`),
    waitForRun: (id, timeoutMs = 90_000) =>
      waitFor(
        `run ${id} to finish`,
        async () => {
          const run = await api.get<Run>(`/runs/${id}`)
          return FINISHED.includes(run.status) ? run : undefined
        },
        { timeoutMs, intervalMs: 250 },
      ),
    async runsOf(workflowId) {
      const page = await api.get<{ items: Run[] }>(`/runs?workflow=${workflowId}&limit=100`)
      return page.items
    },
    async crashOrchestrator() {
      await platform.orchestrator.kill9()
      platform.orchestrator = await restartOrchestrator(platform.orchestrator)
    },
    logs() {
      const parts = [platform.orchestrator.child, ...platform.agents.map((a) => a.child)].map(
        (c) => `--- ${c.name}\n${c.tail(60)}`,
      )
      return parts.join('\n')
    },
    async close() {
      await Promise.all(platform.agents.map((a) => a.stop()))
      await platform.orchestrator.stop()
      await daemon.close()
      if (process.env.STAVILY_E2E_KEEP !== '1') await dropPlatformData(platform.orchestrator.options.schema)
      if (process.env.STAVILY_E2E_KEEP !== '1') rmSync(dir, { recursive: true, force: true })
    },
  }
  return platform
}
