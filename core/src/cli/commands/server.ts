import { CliError, usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import type { CommandSpec } from '../spec.ts'

// `stavily server`: the orchestrator in this process, configured as `node dist/main.js` is
// (the environment, docs/orchestrator.md) with flags on top. The orchestrator's code is
// loaded only here, so the other commands start without it.

function port(flag: string, v: unknown): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v) || Number(v) > 65_535)
    throw usageError(`--${flag}: expected a port number 0-65535, got "${v}"`)
  return Number(v)
}

export const server: CommandSpec = {
  words: ['server'],
  summary: 'start the orchestrator (agent API, operator API, engine)',
  args: [],
  options: {
    host: {
      type: 'string',
      value: 'HOST',
      description: 'address to listen on (env STAVILY_HOST; default 127.0.0.1)',
    },
    port: {
      type: 'string',
      value: 'PORT',
      description:
        'port of the agent API, and of the operator API unless --operator-port (env STAVILY_PORT; default 8080)',
    },
    'operator-port': {
      type: 'string',
      value: 'PORT',
      description: 'serve the operator API on its own port (env STAVILY_OPERATOR_PORT)',
    },
    'data-dir': {
      type: 'string',
      value: 'DIR',
      description: 'embedded database folder when there is no DATABASE_URL (env STAVILY_DATA_DIR)',
    },
    memory: {
      type: 'boolean',
      description: 'keep the embedded database in memory: nothing survives a restart (trying things out)',
    },
  },
  details:
    'PostgreSQL and Redis come from DATABASE_URL and REDIS_URL (kept out of flags: they carry passwords);\nwithout them the orchestrator runs on its embedded database and in-process fleet state.\nOn first start it prints an admin token once. Ctrl-C or SIGTERM stops it gracefully.\nWith --json it prints one line: {"ready": true, "agentUrl", "operatorUrl", "pid", "adminToken"?}.',
  examples: [
    'stavily server',
    'DATABASE_URL=postgres://… REDIS_URL=redis://… stavily server --host 0.0.0.0 --port 8080',
  ],
  async run({ io, opts, out, json }) {
    const { configFromEnv } = await import('../../config.ts')
    const { createOrchestrator } = await import('../../orchestrator.ts')
    const { isStavilyError } = await import('../../errors.ts')
    let config: ReturnType<typeof configFromEnv>
    try {
      config = configFromEnv(io.env as NodeJS.ProcessEnv)
    } catch (err) {
      if (isStavilyError(err)) throw usageError(`environment: ${err.message}`)
      throw err
    }
    const p = port('port', opts.port)
    const op = port('operator-port', opts['operator-port'])
    const host = opts.host as string | undefined
    if (host !== undefined || p !== undefined)
      config.listen = {
        host: host ?? config.listen?.host,
        port: p ?? config.listen?.port,
      } as typeof config.listen
    if (op !== undefined)
      config.operatorListen = { host: host ?? config.listen?.host, port: op } as typeof config.operatorListen
    else if (host !== undefined && config.operatorListen) config.operatorListen.host = host
    if (opts.memory) config.database = { ...config.database, dataDir: null }
    else if (typeof opts['data-dir'] === 'string')
      config.database = { ...config.database, dataDir: opts['data-dir'] }

    let orchestrator: Awaited<ReturnType<typeof createOrchestrator>>
    let urls: { agentUrl: string; operatorUrl: string }
    try {
      orchestrator = await createOrchestrator(config)
      urls = await orchestrator.listen()
    } catch (err) {
      if (isStavilyError(err) && err.code === 'STAVILY_ERR_INVALID_ARGUMENT') throw usageError(err.message)
      throw new CliError(EXIT.failed, `the orchestrator did not start: ${(err as Error).message}`)
    }
    const token = orchestrator.bootstrapToken
    if (json) {
      out.line(
        JSON.stringify({ ready: true, ...urls, pid: process.pid, ...(token ? { adminToken: token } : {}) }),
      )
    } else {
      out.line('stavily orchestrator ready')
      out.line(`  agent API:     ${urls.agentUrl}/agents/v1`)
      out.line(`  operator API:  ${urls.operatorUrl}/api/v1   (reference: ${urls.operatorUrl}/docs)`)
      if (token) {
        out.line('')
        out.line(`first start: admin token (shown once; only its hash is stored):`)
        out.line(`  ${out.paint(token, 'bold')}`)
        out.line(`log in with:  stavily login --url ${urls.operatorUrl}`)
      }
    }
    // SIGHUP: read the TLS certificate and key again (after a renewal); the listeners stay.
    const reload = () => {
      try {
        orchestrator.reloadTls()
        out.note('TLS certificate reloaded')
      } catch (err) {
        out.note(`TLS reload failed, still serving the old certificate: ${(err as Error).message}`)
      }
    }
    process.on('SIGHUP', reload)
    await new Promise<void>((resolve) => {
      const off = io.onInterrupt(() => {
        off()
        resolve()
      })
    })
    process.off('SIGHUP', reload)
    if (!json) out.note('stopping…')
    await orchestrator.close()
    return EXIT.ok
  },
}
