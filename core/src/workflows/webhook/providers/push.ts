import { createHash } from 'node:crypto'
import { type Json, list, object, optionalText, text } from './body-shape.ts'
import type { ProviderEvent } from './types.ts'

// A Git push, the same shape whichever forge sent it, so one workflow filter
// (`trigger.branch == 'main'`) works for all of them. GitHub and Gitea/Forgejo send the
// same body layout; GitLab names things its own way (gitlab.ts maps it first).

/** Forges send at most 20 commits per push (the rest are counted, not listed); room to spare. */
const MAX_COMMITS = 2048

export interface PushCommit {
  id: string
  message: string
  author: { name: string | null; email: string | null }
  timestamp: string | null
  url: string | null
}

export interface Push {
  provider: string
  repository: string
  url: string | null
  ref: string
  branch: string | null
  tag: string | null
  before: string
  after: string
  deleted: boolean
  pusher: { name: string | null; email: string | null }
  commits: PushCommit[]
}

export function commitsFrom(value: unknown, field: string): PushCommit[] {
  return list(value ?? [], field, MAX_COMMITS).map((c, i) => {
    const o = object(c, `${field}.${i}`)
    const author = o.author === undefined ? {} : object(o.author, `${field}.${i}.author`)
    return {
      id: text(o.id, `${field}.${i}.id`),
      message: text(o.message ?? '', `${field}.${i}.message`),
      author: {
        name: optionalText(author.name, `${field}.${i}.author.name`),
        email: optionalText(author.email, `${field}.${i}.author.email`),
      },
      timestamp: optionalText(o.timestamp, `${field}.${i}.timestamp`),
      url: optionalText(o.url, `${field}.${i}.url`),
    }
  })
}

const ZERO = /^0+$/

export function pushEvent(push: Omit<Push, 'branch' | 'tag' | 'deleted'>): ProviderEvent {
  const branch = push.ref.startsWith('refs/heads/') ? push.ref.slice('refs/heads/'.length) : null
  const tag = push.ref.startsWith('refs/tags/') ? push.ref.slice('refs/tags/'.length) : null
  const data: Push = { ...push, branch, tag, deleted: ZERO.test(push.after) }
  return {
    source: push.provider,
    type: 'push',
    data,
    // A push is the move of one ref from one commit to another: re-sending it starts nothing new.
    dedupeKey: `push:${push.repository}:${push.ref}:${push.before}:${push.after}`,
    occurredAt: new Date().toISOString(),
  }
}

/** GitHub's and Gitea's push body (the same layout). */
export function githubStylePush(provider: string, body: Json): ProviderEvent {
  const repo = object(body.repository, 'repository')
  const pusher = body.pusher === undefined ? {} : object(body.pusher, 'pusher')
  return pushEvent({
    provider,
    repository: text(repo.full_name, 'repository.full_name'),
    url: optionalText(repo.clone_url, 'repository.clone_url'),
    ref: text(body.ref, 'ref'),
    before: text(body.before, 'before'),
    after: text(body.after, 'after'),
    pusher: {
      name: optionalText(pusher.name ?? pusher.login ?? pusher.username, 'pusher.name'),
      email: optionalText(pusher.email, 'pusher.email'),
    },
    commits: commitsFrom(body.commits, 'commits'),
  })
}

/**
 * Any other event of a forge (pull request, issue, ping…): passed on as the forge sent it,
 * typed `<provider>.<event>`, deduplicated by the digest of the body. Not by the forge's
 * delivery id: that header is outside the signature, so a captured delivery re-sent with a
 * new id would start a new run each time. A forge's own redelivery repeats the body.
 */
export function otherEvent(provider: string, name: string, body: Buffer, data: unknown): ProviderEvent {
  const digest = createHash('sha256').update(body).digest('hex')
  return {
    source: provider,
    type: `${provider}.${name}`,
    data,
    dedupeKey: `${provider}:${name}:${digest}`,
    occurredAt: new Date().toISOString(),
  }
}
