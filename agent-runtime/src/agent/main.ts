#!/usr/bin/env -S node --max-semi-space-size=1
// `stavily-agent`: reads the configuration, starts the agent, and maps signals and failures
// to exit codes: 0 stopped, 2 bad configuration, 3 credential or enrollment refused, 1 other.
// The agent process itself never loads isolated-vm (the sandbox host child does, and is
// started with --no-node-snapshot), so this entry needs no special Node flags to work.
// For memory it has one: a 1 MB young generation (Node 20 reserves up to 16 MB per
// semi-space, three of them), worth ~30 MB of RSS across the agent and its sandbox host
// (`npm run bench -- agent`) and nothing measurable in speed for an I/O-bound process. The
// shebang passes it to this process; NODE_OPTIONS passes it on to the sandbox host child.
import { AGENT_VERSION, Agent } from './agent.ts'
import { HelpRequested, loadConfig, USAGE, VersionRequested } from './config.ts'
import { AgentError, AgentErrorCodes } from './errors.ts'
import { createLogger } from './logger.ts'

const SEMI_SPACE = '--max-semi-space-size=1'
if (!/--max-semi-space-size/.test(process.env.NODE_OPTIONS ?? ''))
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} ${SEMI_SPACE}`.trim()

/** A second SIGINT: exit 130 whatever the graceful path was about to return. */
let forced = false

async function main(): Promise<number> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(process.argv.slice(2))
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(USAGE)
      return 0
    }
    if (err instanceof VersionRequested) {
      process.stdout.write(`${AGENT_VERSION}\n`)
      return 0
    }
    process.stderr.write(`stavily-agent: ${(err as Error).message}\n`)
    return err instanceof AgentError && err.code === AgentErrorCodes.CONFIG ? 2 : 1
  }
  const log = createLogger(config.logLevel)
  const agent = new Agent(config, log)

  let signals = 0
  let stopping: Promise<number> | undefined
  const onSignal = (sig: NodeJS.Signals) => {
    signals++
    if (sig === 'SIGINT' && signals > 1) {
      forced = true
      log.warn('second SIGINT: stopping now; unsent reports stay in the outbox')
      void agent.kill().finally(() => process.exit(130))
      return
    }
    log.info({ signal: sig }, 'signal received: graceful shutdown (SIGINT again forces)')
    stopping ??= agent.stop().then(
      () => 0,
      (err) => {
        log.error({ err }, 'error during shutdown')
        return 1
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  // SIGHUP: read the TLS files again (a renewed certificate); the agent keeps running.
  process.on('SIGHUP', () => {
    try {
      agent.reloadTls()
      log.info('TLS files reloaded')
    } catch (err) {
      log.error({ err: (err as Error).message }, 'TLS reload failed; still using the old files')
    }
  })

  try {
    await agent.start()
  } catch (err) {
    const e = err as AgentError
    log.fatal({ code: e.code, field: e.field }, e.message)
    await agent.kill().catch(() => {})
    if (e.code === AgentErrorCodes.CONFIG) return 2
    if (e.code === AgentErrorCodes.UNAUTHORIZED) return 3
    return 1
  }
  const fatal = await Promise.race([
    agent.finished,
    new Promise<undefined>((r) => {
      const check = setInterval(() => {
        if (stopping) {
          clearInterval(check)
          r(undefined)
        }
      }, 100)
    }),
  ])
  if (fatal) {
    await agent.kill().catch(() => {})
    return fatal.code === AgentErrorCodes.UNAUTHORIZED ? 3 : 1
  }
  return stopping ? await stopping : 0
}

main().then(
  (code) => process.exit(forced ? 130 : code),
  (err) => {
    process.stderr.write(`stavily-agent: ${(err as Error).stack ?? err}\n`)
    process.exit(1)
  },
)
