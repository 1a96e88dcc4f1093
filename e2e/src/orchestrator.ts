// The orchestrator as a child process (core/src/main.ts), configured from the environment
// as in production: PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set (a fresh schema
// and Redis prefix per orchestrator), else PGlite in its own data folder.
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startProxy, type TcpProxy } from '../../test/tcp-proxy.ts'
import { type Child, startChild } from './child.ts'
import { fromSource } from './source.ts'

export interface OrchestratorOptions {
  /** Folder for the data (PGlite, registry keys, secrets key). */
  dir: string
  /** Same value across restarts of one platform (schema, prefix, token, address). */
  schema?: string
  /**
   * The address agents and the API use: a proxy bound once to port 0 and kept across
   * restarts, in front of an orchestrator that binds port 0 itself each time. A port picked
   * free, closed and bound again by the child could be taken in between, above all on the
   * restart after a kill -9.
   */
  front?: TcpProxy
  bootstrapToken?: string
  env?: NodeJS.ProcessEnv
}

export interface Orchestrator {
  child: Child
  agentUrl: string
  operatorUrl: string
  /** The admin API token (given as STAVILY_BOOTSTRAP_TOKEN). */
  adminToken: string
  options: Required<Omit<OrchestratorOptions, 'env'>> & { env: NodeJS.ProcessEnv }
  /** SIGTERM and wait; then the address is released. */
  stop(): Promise<void>
  /** kill -9, as a crash would. */
  kill9(): Promise<void>
}

/** `stv_admin_` + 43 base64url characters: the form the orchestrator accepts as a bootstrap token. */
export function adminToken(): string {
  return `stv_admin_${randomBytes(32).toString('base64url')}`
}

export async function startOrchestrator(o: OrchestratorOptions): Promise<Orchestrator> {
  const options = {
    dir: o.dir,
    schema: o.schema ?? `e2e_${randomBytes(5).toString('hex')}`,
    front: o.front ?? (await startProxy()),
    bootstrapToken: o.bootstrapToken ?? adminToken(),
    env: o.env ?? {},
  }
  const dataDir = join(options.dir, 'data')
  mkdirSync(dataDir, { recursive: true })
  const run = fromSource('core/src/main.ts')
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...run.env,
    STAVILY_DATA_DIR: dataDir,
    STAVILY_PORT: '0',
    STAVILY_HOST: '127.0.0.1',
    STAVILY_BOOTSTRAP_TOKEN: options.bootstrapToken,
    STAVILY_SCHEMA: options.schema,
    // Plugins are published from a git daemon on loopback.
    STAVILY_REGISTRY_ALLOW_PRIVATE: '1',
    ...(process.env.REDIS_URL ? { STAVILY_REDIS_PREFIX: `${options.schema}:` } : {}),
    ...options.env,
  }
  const child = startChild('orchestrator', process.execPath, run.args, { env })
  const line = await child.waitForLine((l) => l.startsWith('{') && l.includes('"ready":true'), 120_000)
  const ready = JSON.parse(line) as { agentUrl: string; operatorUrl?: string }
  const front = options.front
  front.target = { host: '127.0.0.1', port: Number(new URL(ready.agentUrl).port) }
  const url = `http://127.0.0.1:${front.port}`
  return {
    child,
    agentUrl: url,
    // One port serves both APIs unless the environment gave the operator API its own.
    operatorUrl: ready.operatorUrl && ready.operatorUrl !== ready.agentUrl ? ready.operatorUrl : url,
    adminToken: options.bootstrapToken,
    options,
    async stop() {
      await child.stop(20_000)
      await front.close()
    },
    async kill9() {
      await child.kill9()
      // Down until the restart: connections are refused (closed at once), as they would be.
      front.target = undefined
      front.dropAll()
    },
  }
}

/** Starts the same orchestrator again (same data, schema, address and token), e.g. after kill -9. */
export function restartOrchestrator(previous: Orchestrator): Promise<Orchestrator> {
  return startOrchestrator(previous.options)
}
