import {
  defineSensor,
  type EmittedEvent,
  emitReliably,
  fingerprint,
  flushPendingEvents,
  type JsonValue,
  PluginError,
  type Static,
  Type,
} from '@stavily/sdk'
import { fitToBudget } from './budget.ts'
import { Config, checkConfig, LIMITS } from './config.ts'
import type { PushCommit } from './git-log.ts'
import { lsRemoteArgs, parseLsRemote } from './ls-remote.ts'
import { Mirror, type PushCommits } from './mirror.ts'

const Nullable = Type.Union([Type.String(), Type.Null()])

/** A commit as the webhook trigger's push lists it. */
const Commit = Type.Object({
  id: Type.String(),
  message: Type.String(),
  author: Type.Object({ name: Nullable, email: Nullable }),
  timestamp: Nullable,
  url: Nullable,
})

/**
 * The webhook trigger's push (core's webhook providers), so one workflow filter works for
 * both, plus what a poll can say about the commits. With a `mirror`, `commits` lists the
 * commits the push brought (oldest first, at most maxCommits), `totalCommits` counts them
 * all and `forced` says history was rewritten; without one, ls-remote sees branch heads
 * only: `commits` is empty and both are null.
 */
const Push = Type.Object({
  provider: Type.Literal('git-poll'),
  repository: Type.String(),
  url: Nullable,
  ref: Type.String(),
  branch: Nullable,
  tag: Nullable,
  before: Type.String(),
  after: Type.String(),
  deleted: Type.Boolean(),
  created: Type.Boolean(),
  pusher: Type.Object({ name: Nullable, email: Nullable }),
  commits: Type.Array(Commit, { maxItems: LIMITS.maxCommits }),
  totalCommits: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  truncated: Type.Boolean(),
  forced: Type.Union([Type.Boolean(), Type.Null()]),
})

type PushData = Static<typeof Push>

interface PollState {
  url: string
  /** The head last seen per watched branch; null: checked and absent. */
  heads: Record<string, string | null>
}

/**
 * Runs `git ls-remote --heads <url> <branches…>` on each check (the operator grants `git`),
 * compares each watched branch's head with the one kept in ctx.state, and emits `push` when
 * a branch moved, appeared or went away. The first check only records the heads. With a
 * `mirror`, a check that saw a change fetches the watched branches into a bare repository
 * there and lists each push's commits with `git log`.
 */
export default defineSensor({
  config: Config,
  event: Push,

  async check(ctx) {
    const settings = checkConfig(ctx.config)
    const id = fingerprint(settings.url)
    const stateKey = `git:${id}`
    const pendingKey = `pending:${id}`
    await flushPendingEvents(ctx, pendingKey)
    const previous = readState(await ctx.state.get(stateKey), settings.url)

    const r = await ctx.exec('git', lsRemoteArgs(settings.url, settings.branches), {
      timeoutMs: settings.timeoutMs,
    })
    if (r.timedOut || r.code !== 0) {
      const why = r.timedOut ? `timed out after ${settings.timeoutMs} ms` : `exited with ${r.code}`
      throw new PluginError(
        'GIT_POLL_LS_REMOTE_FAILED',
        `git ls-remote ${settings.url} ${why}: ${r.stderr.trim().slice(0, 500)}`,
        {
          // A network or server problem usually passes; the next check tries again anyway.
          retryable: true,
          data: { command: 'git', url: settings.url, code: r.code },
        },
      )
    }
    const heads = parseLsRemote(r.stdout, settings.branches)
    const present = settings.branches.filter((b) => heads[b] !== null)
    const changed = settings.branches.some((b) => !(b in previous.heads) || previous.heads[b] !== heads[b])
    const mirror =
      settings.mirror === null ? null : new Mirror(ctx.exec, { ...settings, mirror: settings.mirror }, id)
    // Every watched branch that exists, whenever anything changed (a baseline included), so
    // the next push finds its `before`, and a new branch the heads of the others.
    if (mirror !== null && changed) await mirror.fetch(present)
    const now = new Date().toISOString()
    const events: EmittedEvent<PushData>[] = []
    for (const branch of settings.branches) {
      const after = heads[branch] ?? null
      // A branch not seen before (first check, or newly listed) is a baseline, not a push.
      if (!(branch in previous.heads)) continue
      const before = previous.heads[branch] ?? null
      if (before === after) continue
      const zero = '0'.repeat((after ?? before ?? '').length || 40)
      const ref = `refs/heads/${branch}`
      let listing: PushCommits | null = null
      if (mirror !== null) {
        const others = present.filter((b) => b !== branch).map((b) => heads[b]!)
        listing =
          after === null
            ? { commits: [], totalCommits: 0, forced: false }
            : await mirror.commits(before, after, others)
      }
      const commits: PushCommit[] = listing?.commits ?? []
      const data: PushData = {
        provider: 'git-poll' as const,
        repository: settings.repository,
        url: settings.url,
        ref,
        branch,
        tag: null,
        before: before ?? zero,
        after: after ?? zero,
        deleted: after === null,
        created: before === null,
        pusher: { name: null, email: null },
        commits,
        totalCommits: listing?.totalCommits ?? null,
        truncated: listing !== null && listing.totalCommits > commits.length,
        forced: listing?.forced ?? null,
      }
      ctx.log.info('branch moved', {
        repository: settings.repository,
        branch,
        before: data.before,
        after: data.after,
        commits: data.totalCommits,
      })
      events.push({
        type: 'push',
        data,
        // As the webhook's: the move of one ref from one commit to another.
        dedupeKey: `push:${settings.repository}:${ref}:${data.before}:${data.after}`,
        occurredAt: now,
      })
    }
    fitToBudget(events, LIMITS.eventsBytes)
    const next: PollState = { url: settings.url, heads }
    await emitReliably(ctx, pendingKey, events, () => ctx.state.set(stateKey, next as unknown as JsonValue))
  },
})

function readState(value: unknown, url: string): PollState {
  const fresh: PollState = { url, heads: {} }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fresh
  const v = value as Record<string, unknown>
  if (v.url !== url || typeof v.heads !== 'object' || v.heads === null || Array.isArray(v.heads)) return fresh
  const heads: PollState['heads'] = {}
  for (const [branch, sha] of Object.entries(v.heads)) {
    if (sha === null || typeof sha === 'string') heads[branch] = sha
  }
  return { url, heads }
}
