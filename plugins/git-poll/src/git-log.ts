import { PluginError } from '@stavily/sdk'
import { LIMITS } from './config.ts'

/** One commit of a push, as the webhook trigger's push lists it (core's webhook providers). */
export interface PushCommit {
  id: string
  message: string
  author: { name: string | null; email: string | null }
  timestamp: string | null
  url: string | null
}

// Fields separated and commits terminated by NUL (`-z`): git cannot print a NUL inside a
// field (names, e-mails and messages are C strings to it), so a message holding any other
// byte, newlines and \x1e included, cannot shift the fields. Five fields per commit.
const FIELDS = 5
const FORMAT = '--format=%H%x00%an%x00%ae%x00%aI%x00%B'
const SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/

/**
 * `git log` of the commits reachable from `tip` and not from any of `exclude`, newest first,
 * at most `max`. The trailing `--` makes every name before it a revision, never a path.
 */
export function logArgs(tip: string, exclude: string[], max: number): string[] {
  return [
    'log',
    '-z',
    '--no-color',
    '--no-show-signature',
    '--no-mailmap',
    FORMAT,
    `--max-count=${max}`,
    tip,
    ...(exclude.length > 0 ? ['--not', ...exclude] : []),
    '--',
  ]
}

/**
 * The commits of `logArgs` output, oldest first (as forges list a push). A commit cut off
 * by the agent's output cap (no terminating NUL) is left out, not guessed at.
 */
export function parseLog(stdout: string): PushCommit[] {
  const tokens = stdout.split('\0')
  // Every token but the last was followed by a NUL; the last is '' when the output is whole.
  tokens.pop()
  const commits: PushCommit[] = []
  for (let i = 0; i + FIELDS <= tokens.length; i += FIELDS) {
    const [id, name, email, date, message] = tokens.slice(i, i + FIELDS) as [
      string,
      string,
      string,
      string,
      string,
    ]
    // -z puts the NUL after the format's own output; the next commit may start with a newline.
    const sha = id.replace(/^\n/, '')
    if (!SHA.test(sha)) {
      throw new PluginError(
        'GIT_POLL_UNREADABLE',
        `git log: unexpected commit id ${JSON.stringify(sha.slice(0, 80))}`,
        {
          data: { command: 'git' },
        },
      )
    }
    commits.push({
      id: sha,
      message: capMessage(message.replace(/\n+$/, '')),
      author: { name: name === '' ? null : name, email: email === '' ? null : email },
      timestamp: date === '' ? null : date,
      url: null,
    })
  }
  return commits.reverse()
}

function capMessage(message: string): string {
  if (message.length <= LIMITS.messageChars) return message
  let end = LIMITS.messageChars
  // Not between the two halves of a surrogate pair.
  const code = message.charCodeAt(end - 1)
  if (code >= 0xd800 && code <= 0xdbff) end -= 1
  return `${message.slice(0, end)}…`
}

/** `git rev-list --left-right --count a...b`: commits only in a, only in b. */
export function parseLeftRight(stdout: string): { left: number; right: number } {
  const m = /^(\d+)\s+(\d+)\s*$/.exec(stdout)
  if (m === null) {
    throw new PluginError(
      'GIT_POLL_UNREADABLE',
      `git rev-list: unexpected output ${JSON.stringify(stdout.slice(0, 200))}`,
      {
        data: { command: 'git' },
      },
    )
  }
  return { left: Number(m[1]), right: Number(m[2]) }
}

/** `git rev-list --count`: one number. */
export function parseCount(stdout: string): number {
  const m = /^(\d+)\s*$/.exec(stdout)
  if (m === null) {
    throw new PluginError(
      'GIT_POLL_UNREADABLE',
      `git rev-list: unexpected output ${JSON.stringify(stdout.slice(0, 200))}`,
      {
        data: { command: 'git' },
      },
    )
  }
  return Number(m[1])
}
