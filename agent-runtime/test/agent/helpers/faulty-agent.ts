// The agent with a fault injected, for crash tests: the same start as the stavily-agent bin
// (configuration from argv, JSON logs), plus a SIGKILL of itself at one point the test names
// in STAVILY_TEST_FAULT: "after-outbox" (a result entered the outbox), "after-check" (a
// sensor check emitted events, flushed to disk) or "after-streamed:N" (the Nth streamed
// event was taken). The product reads no such variable; this test-only entry injects it.
import { Agent, type AgentFaults } from '../../../src/agent/agent.ts'
import { loadConfig } from '../../../src/agent/config.ts'
import { createLogger } from '../../../src/agent/logger.ts'

const die = () => process.kill(process.pid, 'SIGKILL')
const [point, arg] = (process.env.STAVILY_TEST_FAULT ?? '').split(':')
const faults: AgentFaults =
  point === 'after-outbox'
    ? { afterOutbox: die }
    : point === 'after-check'
      ? { afterCheck: (emitted) => emitted > 0 && die() }
      : point === 'after-streamed'
        ? { afterStreamed: (n) => n === Number(arg) && die() }
        : {}

const config = loadConfig(process.argv.slice(2))
const log = createLogger(config.logLevel)
const agent = new Agent(config, log, faults)
process.on('SIGTERM', () => {
  void agent.stop().finally(() => process.exit(0))
})
await agent.start()
