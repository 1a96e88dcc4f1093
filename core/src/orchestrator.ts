import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { createSecureContext, type Server as TlsServer } from 'node:tls'
import { createRegistry } from '@stavily/registry'
import type { FastifyInstance } from 'fastify'
import { type OrchestratorConfig, type ResolvedConfig, resolveConfig } from './config.ts'
import { migrate } from './db/migrate.ts'
import { openPostgres } from './db/pg-client.ts'
import { openPglite } from './db/pglite-client.ts'
import { plantSeed, seedFor } from './db/seed.ts'
import type { Database } from './db/sql-client.ts'
import { LIMITS } from './defaults.ts'
import { AgentPlugins } from './engine/agent-plugins.ts'
import { WorkflowEngine } from './engine/engine.ts'
import { RunService } from './engine/run-service.ts'
import { WorkflowService } from './engine/workflow-service.ts'
import type { FleetState } from './fleet/fleet-state.ts'
import { MemoryFleet } from './fleet/memory-fleet.ts'
import { createApp } from './http/create-app.ts'
import { secureContext } from './http/tls.ts'
import { Metrics } from './metrics.ts'
import { startBoss } from './queue/boss.ts'
import { Dispatcher } from './queue/dispatcher.ts'
import { PollHub } from './queue/poll-hub.ts'
import { createSecretStore, type Keyring, loadKeyring } from './secrets/index.ts'
import { Agents } from './services/agents.ts'
import { AuditLog } from './services/audit-log.ts'
import type { Services } from './services/context.ts'
import { Events } from './services/events.ts'
import { LiveStream } from './services/live-stream.ts'
import { Organizations } from './services/organizations.ts'
import { PluginCatalog } from './services/plugin-catalog.ts'
import { PluginNames } from './services/plugin-names.ts'
import { Tenancy } from './services/tenancy.ts'

// The composition root: opens the database, migrates, starts pg-boss and fleet state,
// wires the services and builds the HTTP apps.

export interface Orchestrator {
  services: Services
  /** The app serving the agent API (and the operator API when they share a listener). */
  agentApp: FastifyInstance
  /** The app serving the operator API; the same object as agentApp by default. */
  operatorApp: FastifyInstance
  /** Set on the first start of an empty database without a configured bootstrap token: print it once. */
  bootstrapToken: string | undefined
  /** Starts listening; resolves to the base URLs. */
  listen(): Promise<{ agentUrl: string; operatorUrl: string }>
  /** Graceful shutdown: see docs/orchestrator.md. */
  close(): Promise<void>
  /**
   * Reads the TLS files again and serves them to new connections (SIGHUP in `stavily
   * server`): the listeners and open connections stay. Throws, keeping the old
   * certificate, when a file cannot be read or does not parse.
   */
  reloadTls(): void
}

async function openDb(config: ResolvedConfig): Promise<Database> {
  const d = config.database
  if (d.backend === 'postgres')
    return openPostgres({ connectionString: d.url, schema: d.schema, poolSize: config.tuning.pgPoolSize })
  if (d.shared) return openPglite({ dataDir: undefined, schema: d.schema, shared: d.shared })
  const seed = seedFor(d.dataDir, d.schema)
  if (seed && d.dataDir) plantSeed(seed, d.dataDir)
  return openPglite({ dataDir: d.dataDir, schema: d.schema })
}

export async function createOrchestrator(input: OrchestratorConfig = {}): Promise<Orchestrator> {
  const config = resolveConfig(input)
  const tuning = config.tuning
  const db = await openDb(config)
  const cleanup: (() => Promise<unknown>)[] = [() => db.close()]
  try {
    await migrate(db)
    const boss = await startBoss(db, {
      ...(config.database.backend === 'postgres' ? { url: config.database.url } : {}),
      supervise: config.supervise,
      schedule: config.supervise,
    })
    cleanup.unshift(() => boss.stop({ graceful: false, wait: true }))
    // ioredis is loaded only when Redis is configured: the embedded default never needs it
    // and its import was a tenth of the embedded start.
    const fleet: FleetState = config.redis
      ? await (await import('./fleet/redis-fleet.ts')).RedisFleet.connect({
          url: config.redis.url,
          prefix: config.redis.prefix,
        })
      : new MemoryFleet()
    cleanup.unshift(() => fleet.close())
    const metrics = new Metrics()
    const dispatcher = new Dispatcher(db, boss, fleet, tuning, metrics)
    await dispatcher.start()
    const polls = new PollHub(dispatcher, fleet, tuning)
    const tenancy = new Tenancy(db, tuning)
    const boot = await tenancy.bootstrap(config.bootstrapToken)
    const keysDir = config.registry.keysDir ?? join(localDir(config), 'registry-keys')
    // The catalog needs the registry and the registry tells the catalog of each publish:
    // the callback reaches the catalog once both exist.
    let catalog: PluginCatalog | undefined
    const registry = await createRegistry({
      sql: db.sql,
      schema: `${db.schema}_registry`,
      keysDir,
      remotes: config.registry.remotes,
      build: { provided: providedSdk() },
      onPublished: async (v) => {
        await catalog?.followRanges(v.name)
      },
    })
    const secrets = createSecretStore(db.sql, await keyring(config, localDir(config)))
    const audit = new AuditLog(db)
    catalog = new PluginCatalog(db, registry, audit)
    // Names published before they were owned (the seed's) go to the first organization.
    await new PluginNames(db).adoptUnowned(registry)
    const stream = new LiveStream(fleet)
    const events = new Events(db)
    const engine = new WorkflowEngine({
      db,
      boss,
      dispatcher,
      events,
      secrets,
      audit,
      stream,
      tuning,
      background: config.engine.background,
    })
    const services: Services = {
      config,
      tuning,
      db,
      boss,
      fleet,
      metrics,
      tenancy,
      organizations: new Organizations(db),
      agents: new Agents(db, fleet, tuning, stream),
      dispatcher,
      polls,
      events,
      registry,
      catalog,
      secrets,
      audit,
      stream,
      engine,
      workflows: new WorkflowService(db, audit, engine.schedules, dispatcher),
      runs: new RunService(db),
      agentPlugins: new AgentPlugins(db, secrets, tuning),
      lifecycle: { closing: false, lastSweepError: undefined },
    }
    cleanup.unshift(() => services.agents.close())
    await engine.start()
    cleanup.unshift(() => audit.close())
    cleanup.unshift(() => engine.close())
    const sweeper = startSweeper(services)
    const shared = !config.operatorListen
    const agentApp = await createApp(services, shared ? 'both' : 'agent')
    const operatorApp = shared ? agentApp : await createApp(services, 'operator')

    const url = (app: FastifyInstance) => {
      const a = app.server.address() as AddressInfo
      const scheme = config.tls ? 'https' : 'http'
      return `${scheme}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
    }
    let closed: Promise<void> | undefined
    return {
      services,
      agentApp,
      operatorApp,
      bootstrapToken: boot && !config.bootstrapToken ? boot.adminToken : undefined,
      async listen() {
        await agentApp.listen(config.listen)
        if (!shared) await operatorApp.listen(config.operatorListen!)
        return { agentUrl: url(agentApp), operatorUrl: url(operatorApp) }
      },
      reloadTls() {
        const tls = config.tls
        if (!tls) return
        // Both contexts are built before either is swapped in: a bad file changes nothing.
        const next = [agentApp, ...(shared ? [] : [operatorApp])].map((app) => ({
          server: app.server as unknown as TlsServer,
          context: secureContext(tls, app === agentApp ? (shared ? 'both' : 'agent') : 'operator'),
        }))
        for (const n of next) createSecureContext(n.context)
        for (const n of next) n.server.setSecureContext(n.context)
      },
      close() {
        closed ??= (async () => {
          // Order matters: refuse new polls, answer parked ones, let in-flight requests
          // (accepts, results) finish while the database is still open, then stop the rest.
          services.lifecycle.closing = true
          clearInterval(sweeper)
          await polls.close()
          await Promise.all([agentApp.close(), shared ? undefined : operatorApp.close()])
          for (const c of cleanup) await c().catch(() => {})
        })()
        return closed
      },
    }
  } catch (err) {
    for (const c of cleanup) await c().catch(() => {})
    throw err
  }
}

// One timer per instance: expired leases, then lost agents (whose leases end at once so
// their work moves on). Instances sweep concurrently; SKIP LOCKED and the fleet's atomic
// presence claim keep them from doing the same work twice.
function startSweeper(s: Services): NodeJS.Timeout {
  let running = false
  let round = 0
  let reconciledAt = Date.now()
  const timer = setInterval(async () => {
    if (running || s.lifecycle.closing) return
    running = true
    try {
      // A full scan of last-seen times now and then covers presence lost with Redis.
      const lost = await s.agents.sweepLost(round++ % 30 === 0)
      await s.dispatcher.releaseAgents(lost)
      while ((await s.dispatcher.sweepLeases()) === LIMITS.leaseSweepBatch) {}
      if (Date.now() - reconciledAt >= s.config.engine.reconcileIntervalMs) {
        reconciledAt = Date.now()
        await s.engine.reconcile()
      }
      s.lifecycle.lastSweepError = undefined
    } catch (err) {
      s.lifecycle.lastSweepError = err as Error
    } finally {
      running = false
    }
  }, s.tuning.sweepIntervalMs)
  timer.unref()
  return timer
}

// Where generated keys live: the data folder, or, without one (PostgreSQL without
// STAVILY_DATA_DIR, in-memory databases), a folder of this user's cache named after the
// database and schema, so that instances and restarts on this machine find the same keys.
// Instances on other machines must be given the keys (STAVILY_SECRETS_KEY,
// STAVILY_REGISTRY_KEYS_DIR): with keys of their own they refuse to start (registry) or
// cannot read secrets.
// Every plugin imports @stavily/sdk, and the SDK is bundled into each plugin. The registry
// builds it from the orchestrator's own copy: the SDK is not on the npm registry (yet), so a
// plugin's lockfile could not fetch it, and one host copy keeps builds of a commit identical.
function providedSdk(): Record<string, string> {
  const root = dirname(createRequire(import.meta.url).resolve('@stavily/sdk/package.json'))
  const built = join(root, 'dist/index.js')
  // A source checkout that has not been built yet (tests run from source) uses the source.
  return { '@stavily/sdk': existsSync(built) ? built : join(root, 'src/index.ts') }
}

function localDir(config: ResolvedConfig): string {
  if (config.dataDir) return config.dataDir
  const d = config.database
  const identity =
    d.backend === 'postgres' ? `${d.url.replace(/:[^:@/]*@/, '@')}#${d.schema}` : `pglite#${d.schema}`
  const id = createHash('sha256').update(identity).digest('hex').slice(0, 16)
  return join(homedir(), '.cache', 'stavily', `keys-${id}`)
}

// The secrets key: configured, or generated in the data folder (see localDir).
async function keyring(config: ResolvedConfig, dir: string): Promise<Keyring> {
  if (config.secrets.key !== undefined)
    return loadKeyring({ key: config.secrets.key, previousKeys: config.secrets.previousKeys })
  return loadKeyring({ dataDir: dir, previousKeys: config.secrets.previousKeys })
}
