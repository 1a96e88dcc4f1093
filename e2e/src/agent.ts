// stavily-agent as a child process (AGENT's agent-runtime/src/agent/main.ts), enrolled with
// a token minted through the operator API, with the operator's grants as flags.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Api } from './api.ts'
import { type Child, startChild } from './child.ts'
import { fromSource, SOURCE_ROOT } from './source.ts'

/** Where AGENT's process entry lives (the `stavily-agent` bin runs its built form). */
export const AGENT_ENTRY = 'agent-runtime/src/agent/main.ts'

export interface AgentOptions {
  name: string
  kind: 'sensor' | 'action'
  pool?: string
  /** Folder for the agent's data (credential, plugin cache, outbox); reused on restart. */
  dir: string
  orchestratorUrl: string
  grants?: { hosts?: string[]; commands?: string[]; secrets?: string[]; read?: string[]; write?: string[] }
  /** The registry's root.json file (trusted out of band). */
  trustedRoot?: string
  env?: NodeJS.ProcessEnv
}

export interface AgentProcess {
  child: Child
  options: AgentOptions
  stop(): Promise<void>
  kill9(): Promise<void>
}

export function agentAvailable(): boolean {
  return existsSync(join(SOURCE_ROOT, AGENT_ENTRY))
}

/** Mints an enrollment token for `kind`/`pool` through the operator API. */
export async function enrollmentToken(
  api: Api,
  kind: 'sensor' | 'action',
  pool = 'default',
): Promise<string> {
  const t = await api.post<{ token: string }>('/enrollment-tokens', { kind, pool, uses: 1 })
  return t.token
}

/**
 * Starts an agent. Without a stored credential in `dir` it enrolls with `token`; a restart
 * on the same `dir` uses the stored credential (pass no token).
 */
export function startAgent(o: AgentOptions, token?: string): AgentProcess {
  const dataDir = join(o.dir, 'data')
  mkdirSync(dataDir, { recursive: true })
  const g = o.grants ?? {}
  const flags = [
    '--orchestrator',
    o.orchestratorUrl,
    '--data-dir',
    dataDir,
    '--name',
    o.name,
    '--kind',
    o.kind,
    '--pool',
    o.pool ?? 'default',
    '--log-level',
    'debug',
    ...(token ? ['--enrollment-token', token] : []),
    ...(o.trustedRoot ? ['--trusted-root', o.trustedRoot] : []),
    ...(g.hosts ?? []).flatMap((h) => ['--allow-host', h]),
    ...(g.commands ?? []).flatMap((c) => ['--allow-command', c]),
    ...(g.secrets ?? []).flatMap((s) => ['--allow-secret', s]),
    ...(g.read ?? []).flatMap((p) => ['--allow-read', p]),
    ...(g.write ?? []).flatMap((p) => ['--allow-write', p]),
  ]
  const run = fromSource(AGENT_ENTRY)
  const child = startChild(`agent:${o.name}`, process.execPath, [...run.args, ...flags], {
    env: { ...process.env, ...run.env, ...o.env },
  })
  return { child, options: o, stop: () => child.stop(20_000), kill9: () => child.kill9() }
}
