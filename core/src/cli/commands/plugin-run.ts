import { type ApiClient, itemsOf } from '../api-client.ts'
import { CliError, usageError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { printLogLines } from '../log-lines.ts'
import { duration, type Output } from '../output.ts'
import { type CallOutcome, callPlugin, type PluginCall, splitNameVersion } from '../plugin-call.ts'
import { jsonArgument } from '../read-input.ts'
import type { CommandSpec } from '../spec.ts'

// `stavily plugin run NAME[@VERSION] --pool P --input FILE`: one call of a plugin on a real
// agent of the pool (the version the pool has enabled), then its result and log lines.

interface CatalogRow {
  name: string
  kind?: string
  enabled?: { pool: string; version: string }[]
}

/** The plugin's kind and the version its pool runs, or an error saying how to enable it. */
export async function pluginInPool(
  api: ApiClient,
  name: string,
  pool: string,
): Promise<{ kind: PluginCall['kind']; version: string | undefined }> {
  const rows = itemsOf<CatalogRow>(await api.get('/plugins', { q: name, limit: 100 }), 'plugins')
  const row = rows.find((p) => p.name === name)
  if (!row) throw new CliError(EXIT.notFound, `no plugin named ${name} in the registry`, 'publish it first')
  const kind = row.kind === 'sensor' || row.kind === 'output' ? row.kind : 'action'
  return { kind, version: row.enabled?.find((e) => e.pool === pool)?.version }
}

/** Instructions go to action agents only: a sensor runs on its agents' schedule. */
export function sensorNotCallable(name: string): CliError {
  return usageError(
    `${name} is a sensor: only actions and outputs are called one at a time`,
    'a sensor runs on the agents of its pool as a workflow trigger; test its checks with the SDK harness',
  )
}

export function printOutcome(out: Output, label: string, r: CallOutcome): void {
  out.line(
    `${label}: ${out.status(r.status)} in ${duration(r.ms)}${r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}`,
  )
  if (r.logs.length > 0) {
    out.line('logs:')
    printLogLines(out, r.logs, { prefix: '  ' })
  }
  if (r.status === 'succeeded') {
    out.line('output:')
    for (const l of JSON.stringify(r.output ?? null, null, 2).split('\n')) out.line(`  ${l}`)
  } else if (r.error) out.line(`error: ${r.error.code ?? 'STAVILY_ERR_FAILED'}: ${r.error.message ?? ''}`)
}

export const pluginRun: CommandSpec = {
  words: ['plugin', 'run'],
  summary: 'call a plugin once on an agent of a pool and print its result and log lines',
  args: [
    {
      name: 'NAME[@VERSION]',
      required: true,
      description: 'plugin name; with @VERSION the pool must run that version',
    },
  ],
  options: {
    pool: { type: 'string', value: 'POOL', description: 'the agent pool to run it on (required)' },
    input: {
      type: 'string',
      value: 'FILE',
      description: 'a JSON file with the input (`-` reads standard input; default {})',
    },
    config: { type: 'string', value: 'FILE', description: 'a JSON file with the config' },
    timeout: { type: 'string', value: 'SECONDS', description: 'how long the call may take (default 60)' },
  },
  details:
    'The call runs once (no retries) as an instruction outside any workflow. Exit 0 when it ' +
    'succeeded, 1 when it failed; --json prints the instruction with its logs.',
  examples: [
    'stavily plugin run @acme/disk-usage --pool dev --input input.json',
    'echo \'{"path":"/"}\' | stavily plugin run @acme/disk-usage@0.2.0 --pool dev --input -',
  ],
  async run({ io, args, opts, out, json, client }) {
    if (typeof opts.pool !== 'string') throw usageError('stavily plugin run: missing --pool POOL')
    const { name, version } = splitNameVersion(args[0]!)
    const timeout = opts.timeout === undefined ? 60 : Number(opts.timeout)
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 86_400)
      throw usageError(`--timeout: expected whole seconds from 1 to 86400, got "${opts.timeout}"`)
    const fromFile = async (option: string, v: unknown) =>
      typeof v === 'string' ? jsonArgument(io, option, v === '-' ? '@-' : `@${v}`) : undefined
    const input = (await fromFile('input', opts.input)) ?? {}
    const config = await fromFile('config', opts.config)
    const api = await client()
    const target = await pluginInPool(api, name, opts.pool)
    if (target.kind === 'sensor') throw sensorNotCallable(name)
    if (!target.version)
      throw new CliError(
        EXIT.failed,
        `${name} is not enabled in pool ${opts.pool}`,
        `stavily plugin enable ${name} --pool ${opts.pool} --range ${version ?? 'RANGE'}`,
      )
    const r = await callPlugin(api, {
      name,
      ...(version === undefined ? {} : { version }),
      pool: opts.pool,
      kind: target.kind,
      input,
      ...(config === undefined ? {} : { config }),
      timeoutMs: timeout * 1000,
    })
    if (json) out.json(r)
    else printOutcome(out, `${name}@${r.pluginVersion ?? version ?? target.version} on pool ${opts.pool}`, r)
    return r.status === 'succeeded' ? EXIT.ok : EXIT.failed
  },
}
