import { apiError, errorBody } from '../api-client.ts'
import { CliError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { duration } from '../output.ts'
import type { CommandSpec } from '../spec.ts'
import { reportPools } from './plugin-ranges.ts'

// `stavily plugin publish`: the registry clones, installs, builds and signs, which takes
// seconds to minutes. The route streams one JSON object per line (progress, then result or
// error) when asked for application/x-ndjson; each progress line is shown as it arrives.

interface Line {
  type: 'progress' | 'result' | 'error'
  step?: string
  message?: string
  status?: number | string
  code?: string
  version?: { name: string; version: string; digest?: string; commit?: string }
  timings?: { totalMs: number }
}

async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<Line> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl = buffer.indexOf('\n')
    while (nl !== -1) {
      const text = buffer.slice(0, nl).trim()
      buffer = buffer.slice(nl + 1)
      nl = buffer.indexOf('\n')
      if (text) yield JSON.parse(text) as Line
    }
  }
  if (buffer.trim()) yield JSON.parse(buffer) as Line
}

export const pluginPublish: CommandSpec = {
  words: ['plugin', 'publish'],
  summary: 'publish a plugin version from a Git repository (the registry builds and signs it)',
  args: [],
  options: {
    repo: { type: 'string', value: 'URL', description: 'Git URL of the plugin (required)' },
    ref: { type: 'string', value: 'REF', description: 'tag, branch or full commit SHA (required)' },
    path: { type: 'string', value: 'DIR', description: 'sub-folder holding the plugin' },
  },
  details: 'Progress goes to standard error as it happens; the result to standard output.',
  examples: ['stavily plugin publish --repo https://github.com/acme/stavily-plugin-restart --ref v1.2.0'],
  async run({ opts, out, json, client }) {
    if (typeof opts.repo !== 'string')
      throw new CliError(EXIT.usage, 'stavily plugin publish: missing --repo URL')
    if (typeof opts.ref !== 'string')
      throw new CliError(EXIT.usage, 'stavily plugin publish: missing --ref REF')
    const api = await client()
    const what = 'POST /api/v1/registry/plugins'
    const res = await api.check(
      await api.fetch('POST', '/registry/plugins', {
        accept: 'application/x-ndjson',
        body: {
          repo: opts.repo,
          ref: opts.ref,
          ...(typeof opts.path === 'string' ? { path: opts.path } : {}),
        },
      }),
      what,
    )
    const started = Date.now()
    out.note(`publishing ${opts.repo} at ${opts.ref}`)
    let result: Line | undefined
    for await (const line of lines(res.body!)) {
      if (line.type === 'progress') {
        out.note(
          `  ${out.paint(`[${duration(Date.now() - started).padStart(6)}]`, 'dim', 'stderr')} ${line.step}: ${line.message}`,
        )
      } else if (line.type === 'error') {
        const status = typeof line.status === 'number' ? line.status : 500
        throw apiError(status, errorBody(status, line, ''), what, api.baseUrl)
      } else result = line
    }
    if (!result?.version)
      throw new CliError(
        EXIT.failed,
        'the registry ended the publish without a result',
        "see the orchestrator's log",
      )
    if (json) {
      const { type: _type, ...rest } = result
      out.json(rest)
      return EXIT.ok
    }
    const v = result.version
    const verb = result.status === 'unchanged' ? 'already published (unchanged)' : 'published'
    out.line(
      `${v.name}@${v.version} ${verb}${result.timings ? ` in ${duration(result.timings.totalMs)}` : ''}`,
    )
    if (v.digest) out.line(`digest: ${v.digest}`)
    if (result.status !== 'unchanged') await reportPools(api, out, v.name, v.version)
    return EXIT.ok
  },
}
