import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import * as S from '@stavily/protocol'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { hashSecret } from '../../auth/secrets.ts'
import { StavilyError } from '../../errors.ts'
import { instructionQueue } from '../../queue/queue-names.ts'
import type { Services } from '../../services/context.ts'
import type { Agent, Instruction } from '../../types.ts'
import { agentAuth, bearer } from '../auth.ts'
import { agentRateLimit, registerRateLimit, withinAgentBudget } from '../rate-limit.ts'
import { errorResponses, IdParams } from '../schemas/common.ts'

// The agent API, /agents/v1. Agents see only their own organization's and pool's work, of
// their own kind: the queue they poll is derived from their credential, never from input.

export function agentApi(services: Services) {
  return async (root: FastifyInstance): Promise<void> => {
    const app = root.withTypeProvider<TypeBoxTypeProvider>()
    const { tuning } = services
    const auth = agentAuth(services)
    // onRequest: the limit, then authentication, before the body is read or validated
    // (no credential → 401, never a 400 about the body). Two budgets (rate-limit.ts):
    // asking for work is limited like polls; reporting on work already handed out is not.
    const secured = { onRequest: [agentRateLimit(services.fleet, tuning, 'poll'), auth] }
    const reporting = { onRequest: [agentRateLimit(services.fleet, tuning, 'report'), auth] }
    const intervals = () => ({
      pollWaitMs: tuning.pollWaitMs,
      heartbeatMs: tuning.heartbeatMs,
      leaseTtlMs: tuning.leaseTtlMs,
      backoffInitialMs: tuning.agentBackoffInitialMs,
      backoffMaxMs: tuning.agentBackoffMaxMs,
    })
    const me = (req: { agent?: Agent }) => req.agent!
    // Secrets are read at hand-out, never stored with the instruction.
    const handOut = async (agent: Agent, got: Instruction[]) => {
      const secrets = await services.agentPlugins.secretsFor(agent, got)
      return got.map((i) => wire(i, secrets.get(i.id) ?? {}))
    }

    app.post(
      '/register',
      {
        onRequest: registerRateLimit(services.fleet, tuning),
        schema: {
          summary: 'Exchange an enrollment token for an agent credential',
          body: S.RegisterBody,
          response: { 201: S.RegisterReply, ...errorResponses },
        },
      },
      async (req, reply) => {
        const { agent, credential } = await services.agents.register(req.body)
        return reply.code(201).send({
          agentId: agent.id,
          orgId: agent.orgId,
          kind: agent.kind,
          pool: agent.pool,
          labels: agent.labels,
          credential,
          intervals: intervals(),
        })
      },
    )

    app.post(
      '/heartbeat',
      {
        ...secured,
        schema: {
          summary: 'Report liveness; learn about drain and cancellations',
          body: S.HeartbeatBody,
          response: { 200: S.HeartbeatReply, ...errorResponses },
        },
      },
      async (req) => {
        const agent = me(req)
        const { drain } = await services.agents.heartbeat(agent, req.body)
        const [cancel, pluginsChanged] = await Promise.all([
          services.dispatcher.cancelsFor(agent.id),
          services.agentPlugins.pluginsChanged(agent),
        ])
        return { drain, cancel, intervals: intervals(), pluginsChanged }
      },
    )

    app.get(
      '/instructions',
      {
        ...secured,
        schema: {
          summary: 'Long-poll for instructions',
          querystring: S.PollQuery,
          response: { 200: S.PollReply, ...errorResponses },
        },
      },
      async (req) => {
        if (services.lifecycle.closing) {
          throw new StavilyError(
            'STAVILY_ERR_SHUTTING_DOWN',
            'this instance is shutting down; poll again (another instance will answer)',
          )
        }
        const agent = me(req)
        // A draining agent gets no new work; it finishes what it holds.
        const cancel = agent.hasCancels ? await services.dispatcher.cancelsFor(agent.id) : []
        if (agent.drain) return { instructions: [], drain: true, cancel }
        const max = Math.min(req.query.max ?? 1, tuning.pollMaxBatch)
        const jitter = Math.round((Math.random() * 2 - 1) * tuning.pollJitterMs)
        const wait = Math.max(
          0,
          Math.min(req.query.waitMs ?? tuning.pollWaitMs + jitter, tuning.pollWaitMaxMs),
        )
        const abort = new AbortController()
        req.raw.on('close', () => abort.abort())
        // An agent that hung up while it was being authenticated closed the request before
        // this listener was there: its poll must not park (work handed to it would wait out
        // its lease on a socket nobody reads).
        if (req.raw.destroyed || req.socket.destroyed) abort.abort()
        const got = await services.polls.poll(
          instructionQueue(agent.orgId, agent.kind, agent.pool),
          agent,
          // The credential the poll came with: a rotation refuses the poll, not just later requests.
          hashSecret(bearer(req)).toString('hex'),
          max,
          wait,
          abort.signal,
        )
        return { instructions: await handOut(agent, got), drain: false, cancel }
      },
    )

    app.post(
      '/instructions/:id/accept',
      {
        ...reporting,
        schema: {
          summary: 'Accept an instruction / renew its lease',
          params: IdParams,
          body: S.AcceptBody,
          response: { 200: S.AcceptReply, ...errorResponses },
        },
      },
      async (req) => {
        const { leaseUntil, cancel } = await services.dispatcher.renew(
          me(req),
          req.params.id,
          req.body.attempt,
        )
        return { leaseUntil: leaseUntil.toISOString(), cancel }
      },
    )

    app.post(
      '/instructions/:id/result',
      {
        ...reporting,
        schema: {
          summary:
            'Report the result of an attempt (idempotent); with ?next=N, also take up to N instructions now',
          params: IdParams,
          querystring: S.ResultQuery,
          body: S.ResultBody,
          response: { 200: S.ResultReply, ...errorResponses },
        },
      },
      async (req) => {
        const agent = me(req)
        const answer = await services.dispatcher.report(agent, req.params.id, req.body)
        const want = Math.min(req.query.next ?? 0, tuning.pollMaxBatch)
        if (want === 0) return answer
        return { ...answer, ...(await nextWork(req, agent, want)) }
      },
    )

    // The next work a result reply carries: what a poll would answer at once (same queue,
    // claim, standing check, drain, cancels, secrets at hand-out), never parking. It joins
    // the queue's next claim with the parked polls: one claim per queue for many agents
    // rather than one per result, which halved dispatch throughput with 50 agents. The
    // result is recorded whatever happens here: asking counts as a poll, and past the poll
    // budget, while shutting down, or on any failure to claim, the reply carries no work
    // (the agent polls, and learns why there). Work claimed for a request that hung up
    // meanwhile is handed back at once, as a poll's is; work whose reply is lost later comes
    // back when its lease ends, as a poll's does.
    const nextWork = async (req: FastifyRequest, agent: Agent, want: number) => {
      const cancel = agent.hasCancels ? await services.dispatcher.cancelsFor(agent.id) : []
      if (agent.drain) return { instructions: [], drain: true, cancel }
      const none = { instructions: [], drain: false, cancel }
      if (services.lifecycle.closing) return none
      const allowed = await withinAgentBudget(services.fleet, tuning, 'poll', req).catch(() => false)
      if (!allowed) return none
      // (The socket, not the request: a request whose body was read counts as destroyed.)
      const abort = new AbortController()
      const hungUp = () => abort.abort()
      req.socket.once('close', hungUp)
      if (req.socket.destroyed) abort.abort()
      try {
        const got = await services.polls
          .take(
            instructionQueue(agent.orgId, agent.kind, agent.pool),
            agent,
            hashSecret(bearer(req)).toString('hex'),
            want,
            abort.signal,
          )
          // Revoked or rotated since authentication: no work; the next request gets the 401.
          .catch(() => [] as Instruction[])
        if (got.length === 0) return none
        return { instructions: await handOut(agent, got), drain: false, cancel }
      } finally {
        req.socket.off('close', hungUp)
      }
    }

    app.post(
      '/events',
      {
        ...reporting,
        schema: {
          summary: 'Report events (sensor agents)',
          body: S.EventsBody,
          response: { 202: S.EventsReply, ...errorResponses },
        },
      },
      async (req, reply) => {
        const agent = me(req)
        if (agent.kind !== 'sensor') {
          throw new StavilyError('STAVILY_ERR_WRONG_AGENT_KIND', 'events: only sensor agents report events')
        }
        return reply.code(202).send(await services.events.store(agent, req.body.events))
      },
    )

    app.get(
      '/plugins',
      {
        ...secured,
        schema: {
          summary: "The desired plugin set of the agent's pool",
          response: { 200: S.PluginsReply, ...errorResponses },
        },
      },
      async (req) => {
        const agent = me(req)
        const [plugins, sensors] = await Promise.all([
          services.agents.desiredPlugins(agent),
          services.agentPlugins.sensors(agent),
        ])
        return { pool: agent.pool, plugins, sensors }
      },
    )

    app.post(
      '/credential/rotate',
      {
        ...secured,
        schema: {
          summary: 'Replace this credential; the old one stops working',
          response: { 200: S.RotateReply, ...errorResponses },
        },
      },
      async (req) => ({ credential: await services.agents.rotate(me(req), bearer(req)) }),
    )
  }
}

function wire(i: Instruction, secrets: Record<string, string>): S.WireInstruction {
  return {
    id: i.id,
    version: i.pluginVersion,
    idempotencyKey: i.idempotencyKey ?? i.id,
    secrets,
    runId: i.runId,
    stepId: i.stepId,
    attempt: i.attempt,
    maxAttempts: i.maxAttempts,
    plugin: i.plugin,
    operation: i.operation,
    input: i.input,
    config: i.config,
    timeoutMs: i.timeoutMs,
    leaseUntil: new Date(i.leaseUntil!).toISOString(),
  }
}
