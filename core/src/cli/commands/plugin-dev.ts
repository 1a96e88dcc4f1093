import { type FSWatcher, watch } from 'node:fs'
import { resolve } from 'node:path'
import { isDevPool } from '@stavily/protocol'
import { CliError, isCliError, usageError } from '../cli-error.ts'
import { DevSnapshot, devVersion, ignoredPath, readDevManifest } from '../dev-snapshot.ts'
import { EXIT } from '../exit-codes.ts'
import { duration, type Output } from '../output.ts'
import { callPlugin } from '../plugin-call.ts'
import { jsonArgument } from '../read-input.ts'
import type { CommandSpec } from '../spec.ts'
import { printOutcome, sensorNotCallable } from './plugin-run.ts'

// `stavily plugin dev [DIR]`: the inner loop. Each build of the working tree becomes a dev
// version (`<version>-dev.<n>`, published through the registry's own path, see
// dev-snapshot.ts), pinned in a dev pool, where its agents hot-swap it; with --input each
// build is called once and its result and log lines printed. Rebuilds on save.

/** Saves come in bursts (an editor writes a temp file, renames, touches): one build per burst. */
const DEBOUNCE_MS = 100

interface Published {
  version: { name: string; version: string; digest: string }
}

export interface DevBuild {
  version: string
  /** Change seen (or start) → published, enabled and, with --input, called successfully. */
  ms: number
  status: string
}

export const pluginDev: CommandSpec = {
  words: ['plugin', 'dev'],
  summary: 'build the working tree as a dev version, hot-swap it in a dev pool, rebuild on save',
  args: [{ name: 'DIR', required: false, description: 'the plugin folder (default: the current one)' }],
  options: {
    pool: {
      type: 'string',
      value: 'POOL',
      description: 'the dev pool to run it in: dev or dev-* (default dev)',
    },
    input: {
      type: 'string',
      value: 'FILE',
      description: 'call the plugin with this JSON input after each build, and print result and logs',
    },
    config: { type: 'string', value: 'FILE', description: 'a JSON file with the config for those calls' },
    once: { type: 'boolean', description: 'build (and call) once, then exit' },
  },
  details:
    'Nothing in the folder changes: no commit, tag or version bump. Each build is published ' +
    'as <version>-dev.<n> through the registry (the orchestrator must run on this machine ' +
    'with file:// remotes allowed, as `npm run dev` does) and pinned in the pool; dev ' +
    'versions can be enabled only in dev pools, and agents of other pools refuse them.',
  examples: [
    'stavily plugin dev --input input.json',
    'stavily plugin dev ./my-plugin --pool dev-alice --input input.json --once',
  ],
  async run({ io, args, opts, out, client }) {
    const pool = typeof opts.pool === 'string' ? opts.pool : 'dev'
    if (!isDevPool(pool))
      throw usageError(
        `--pool: ${pool} is not a dev pool; plugin dev runs builds only in a pool named dev or dev-*`,
        'start an agent in a dev pool (docs/plugin-authors.md, "Run it on an agent"), then: stavily plugin dev --pool dev',
      )
    const dir = resolve(io.cwd, args[0] ?? '.')
    const manifest = await readDevManifest(dir)
    if (manifest.kind === 'sensor' && opts.input !== undefined) throw sensorNotCallable(manifest.name)
    const fromFile = async (option: string, v: unknown) =>
      typeof v === 'string' ? jsonArgument(io, option, v === '-' ? '@-' : `@${v}`) : undefined
    const input = await fromFile('input', opts.input)
    const config = await fromFile('config', opts.config)
    const api = await client()
    const snapshot = await DevSnapshot.create()
    const build = async (since: number): Promise<DevBuild> => {
      const m = await readDevManifest(dir)
      const version = devVersion(m.version, Date.now())
      await snapshot.commit(dir, version)
      // The branch, not the commit: one shallow clone (a commit id may need a full fetch).
      const { body } = await api.request<Published>('POST', '/registry/plugins', {
        body: { repo: snapshot.url, ref: DevSnapshot.BRANCH },
      })
      await api.request('POST', '/plugins/enable', { body: { name: m.name, pool, range: version } })
      out.note(
        `${m.name}@${body.version.version} enabled in pool ${pool} (${body.version.digest.slice(0, 19)}…) ${duration(Date.now() - since)} after the change`,
      )
      if (input === undefined) return { version, ms: Date.now() - since, status: 'enabled' }
      const r = await callPlugin(api, {
        name: m.name,
        version,
        pool,
        kind: m.kind,
        input,
        ...(config === undefined ? {} : { config }),
        timeoutMs: 60_000,
      })
      const ms = Date.now() - since
      printOutcome(out, `${m.name}@${version} on pool ${pool}`, r)
      out.note(`reload: ${duration(ms)} from the change to the result`)
      return { version, ms, status: r.status }
    }
    try {
      if (opts.once === true) {
        const b = await build(Date.now())
        return b.status === 'succeeded' || b.status === 'enabled' ? EXIT.ok : EXIT.failed
      }
      return await watchAndBuild(io, dir, out, manifest.name, build)
    } finally {
      await snapshot.remove()
    }
  },
}

/** Builds now and after each burst of changes, one build at a time, until Ctrl-C. */
async function watchAndBuild(
  io: { onInterrupt(fn: () => void): () => void },
  dir: string,
  out: Output,
  name: string,
  build: (since: number) => Promise<DevBuild>,
): Promise<number> {
  let changedAt: number | undefined
  let timer: NodeJS.Timeout | undefined
  let building: Promise<void> | undefined
  const attempt = async (since: number) => {
    try {
      await build(since)
    } catch (err) {
      // A build error (file:line:column), a refused call, a file that vanished mid-copy:
      // show it and keep watching; the next save tries again.
      const hint = isCliError(err) && err.hint ? `\n  ${err.hint}` : ''
      out.line(`${out.paint('build failed:', 'red')} ${(err as Error).message}${hint}`)
    }
    out.note(`watching ${dir} for changes to ${name} (Ctrl-C to stop)`)
  }
  const next = () => {
    timer = undefined
    if (building || changedAt === undefined) return
    const since = changedAt
    changedAt = undefined
    building = attempt(since).finally(() => {
      building = undefined
      if (changedAt !== undefined) next()
    })
  }
  let watcher: FSWatcher | undefined
  return await new Promise<number>((resolveExit, reject) => {
    try {
      watcher = watch(dir, { recursive: true }, (_event, file) => {
        if (file && ignoredPath(dir, resolve(dir, file.toString()))) return
        changedAt ??= Date.now()
        if (timer) clearTimeout(timer)
        timer = setTimeout(next, DEBOUNCE_MS)
      })
    } catch (err) {
      reject(new CliError(EXIT.failed, `cannot watch ${dir}: ${(err as Error).message}`))
      return
    }
    const off = io.onInterrupt(() => {
      off()
      if (timer) clearTimeout(timer)
      watcher?.close()
      void (building ?? Promise.resolve()).then(() => resolveExit(EXIT.ok))
    })
    changedAt = Date.now()
    next()
  })
}
