import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { signWebhook } from '../../workflows/webhook/signature.ts'
import { apiError, errorBody, unreachable } from '../api-client.ts'
import { CliError, usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'
import type { Output } from '../output.ts'
import { readDocument } from '../read-input.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'
import { enc } from './workflow-document.ts'

// `stavily hook send`: delivers an event to a webhook-triggered workflow the way a sender
// must (docs/workflows.md#webhook): the exact bytes of the file, signed with v2 over
// "<t>.<workflow id>.<body>". For trying a workflow and for scripts that cannot sign.

interface WorkflowDetail {
  id: string
  name: string
  definition?: { trigger?: { kind?: string; secret?: string; provider?: string } }
}

interface HookAnswer {
  accepted: true
  runId: string | null
  reason?: string
  runIds?: string[]
}

/** The secret's file, byte for byte, but for one trailing newline (which editors and `echo` add). */
async function readSecretFile(io: CliIo, out: Output, file: string): Promise<string> {
  let text: string
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8')
  } catch (err) {
    throw usageError(
      `--secret-file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    )
  }
  const trimmed = text.replace(/\r?\n$/, '')
  if (trimmed !== text)
    out.warn(
      `--secret-file ${file}: dropped the trailing newline; the secret is the ${trimmed.length} characters before it (write it with printf '%s' to avoid this)`,
    )
  return trimmed
}

async function readSecret(io: CliIo, out: Output, file: string | undefined, event: string): Promise<string> {
  if (file !== undefined) return readSecretFile(io, out, file)
  if (io.stdinIsTTY) return io.promptHidden('webhook secret: ')
  throw usageError(
    'no secret given',
    event === '-'
      ? 'the event comes from standard input: pass the secret with --secret-file FILE'
      : 'pass --secret-file FILE (the value of the organization secret the trigger names), or run it on a terminal to type it',
  )
}

const send: CommandSpec = {
  words: ['hook', 'send'],
  summary: 'sign an event with the trigger secret and deliver it to a webhook workflow',
  args: [{ name: 'WORKFLOW', required: true, description: 'the webhook-triggered workflow (name or id)' }],
  options: {
    event: {
      type: 'string',
      value: 'FILE',
      description: 'the JSON body to send, sent byte for byte (- reads standard input)',
    },
    'secret-file': {
      type: 'string',
      value: 'FILE',
      description: 'the secret the trigger names (a trailing newline is dropped, with a warning)',
    },
  },
  details:
    'Signs with v2 (Stavily-Signature: t=…,v2=HMAC-SHA256 of "<t>.<workflow id>.<body>"), as docs/workflows.md describes. Without --secret-file, the secret is asked for without echo.',
  examples: ['stavily hook send disk-report --event event.json --secret-file hook-secret'],
  async run({ io, args, opts, out, json, client }) {
    const eventFile = opts.event as string | undefined
    if (eventFile === undefined)
      throw usageError(
        '--event FILE is required',
        'put the JSON body in a file (or pass --event - to pipe it in)',
      )
    const body = (await readDocument(io, eventFile)).text
    try {
      JSON.parse(body)
    } catch (err) {
      throw usageError(`--event ${eventFile}: expected JSON (${(err as Error).message})`)
    }
    const secret = await readSecret(io, out, opts['secret-file'] as string | undefined, eventFile)
    if (secret === '') throw usageError('the secret is empty')

    const api = await client()
    const wf = await api.get<WorkflowDetail>(`/workflows/${enc(args[0]!)}`)
    const trigger = wf.definition?.trigger
    if (trigger?.kind !== 'webhook' || trigger.secret === undefined)
      throw usageError(
        `workflow ${wf.name} is not triggered by a webhook`,
        'hook send delivers to workflows with `trigger: webhook:`',
      )
    // Other senders (GitHub, Alertmanager…) prove requests their own way: not this signature.
    if (trigger.provider !== undefined && trigger.provider !== 'stavily')
      throw usageError(
        `workflow ${wf.name}'s webhook expects requests from ${trigger.provider}, signed its way`,
        'hook send signs with Stavily-Signature, for triggers without a provider',
      )
    const secretName = trigger.secret

    const path = `/hooks/${enc(wf.id)}`
    let res: Response
    try {
      res = await fetch(api.url(path), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stavily-signature': signWebhook(secret, body, Math.floor(Date.now() / 1000), wf.id),
        },
        body,
      })
    } catch (err) {
      throw unreachable(api.baseUrl, err)
    }
    const text = await res.text()
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {}
    if (res.status === 401)
      throw new CliError(
        EXIT.failed,
        `the orchestrator refused the signature of ${wf.name}'s hook`,
        `sign with the value of the organization secret ${secretName} (check the file holds exactly it), and check this machine's clock (5 minutes' tolerance)`,
      )
    if (!res.ok)
      throw apiError(res.status, errorBody(res.status, parsed, text), `POST /api/v1${path}`, api.baseUrl)
    const answer = parsed as HookAnswer
    if (json) out.json(answer)
    else if (answer.runIds && answer.runIds.length > 1)
      out.line(`accepted: ${answer.runIds.length} runs started (${answer.runIds.join(', ')})`)
    else if (answer.runId)
      out.line(`accepted: run ${answer.runId} started (stavily run watch ${answer.runId})`)
    else out.line(`accepted: no run started (${answer.reason ?? 'no reason given'})`)
    return EXIT.ok
  },
}

export const hookGroup: GroupSpec = {
  name: 'hook',
  summary: 'webhooks: send a signed event to a webhook-triggered workflow',
  commands: [send],
}
