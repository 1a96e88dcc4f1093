import {
  type Batch,
  defineSensor,
  type FsChange,
  isPluginError,
  type SensorContext,
  type Subscription,
  Type,
} from '@stavily/sdk'
import { type Change, Config, checkConfig, DEFAULTS, type Settings } from './config.ts'

const FileChange = Type.Object({
  name: Type.String(),
  change: Type.Union([Type.Literal('created'), Type.Literal('modified'), Type.Literal('deleted')]),
  path: Type.String(),
  /** The watched file or folder (one of config.paths) the change is under. */
  root: Type.String(),
  /** The path relative to the watched folder (for a watched file: its name). */
  relativePath: Type.String(),
})

/** How long one wait for changes lasts at most: how late a debounced change can be, and a stop noticed. */
const POLL_MS = 1000

type Ctx = SensorContext<unknown, unknown>

interface Target {
  root: string
  isDir: boolean
  sub: Subscription<FsChange> | undefined
  waiting: Promise<{ target: Target; batch?: Batch<FsChange>; error?: unknown }> | undefined
}

/** Changes to one path within the debounce window. */
interface Pending {
  root: string
  existedBefore: boolean
  existsNow: boolean
  due: number
}

/**
 * Watches files and folders (ctx.fs.watch) and emits `file-watch.created`, `.modified` or
 * `.deleted` per path once its changes have settled for `debounceMs`. The changes of the
 * window are netted against what existed before it, so an editor's atomic save (write a
 * temporary file, rename it over the target) is one `modified` of the target and nothing for
 * the temporary file, and a file replaced by a rename is `modified`, not `created`. A watched
 * file that is replaced is watched again on its new inode; a watched path that does not exist
 * yet is watched once it does.
 */
export default defineSensor({
  config: Config,
  event: FileChange,

  async watch(ctx) {
    const s = checkConfig(ctx.config)
    const known = new Set<string>()
    // Targets watched at least once: one that appears later was created meanwhile.
    const opened = new Set<string>()
    const pending = new Map<string, Pending>()
    const targets: Target[] = s.paths.map((root) => ({
      root,
      isDir: false,
      sub: undefined,
      waiting: undefined,
    }))
    const note = (root: string, change: FsChange, now: number) => {
      const p = pending.get(change.path) ?? {
        root,
        existedBefore: known.has(change.path),
        existsNow: known.has(change.path),
        due: 0,
      }
      p.existsNow = change.type !== 'deleted'
      p.due = now + s.debounceMs
      pending.set(change.path, p)
    }
    try {
      while (!ctx.isStopping()) {
        for (const t of targets) {
          if (t.sub === undefined)
            await open(ctx, s, t, known, opened, (change) => note(t.root, change, Date.now()))
          if (t.sub !== undefined && t.waiting === undefined) {
            const target = t
            t.waiting = t.sub.next({ timeoutMs: POLL_MS }).then(
              (batch) => ({ target, batch }),
              (error: unknown) => ({ target, error }),
            )
          }
        }
        const waiting = targets.flatMap((t) => (t.waiting ? [t.waiting] : []))
        if (waiting.length === 0) await ctx.sleep(POLL_MS)
        else {
          const { target, batch, error } = await Promise.race(waiting)
          target.waiting = undefined
          if (error !== undefined) {
            ctx.log.warn('the watch ended; watching again', { path: target.root, error: String(error) })
            await closeTarget(target)
          } else if (batch !== undefined) {
            if (batch.dropped > 0) {
              ctx.log.warn('changes dropped: more came than the agent buffers', {
                path: target.root,
                dropped: batch.dropped,
              })
            }
            const now = Date.now()
            for (const change of batch.items) {
              note(target.root, change, now)
              // A watched file replaced or removed: its watch followed the old inode.
              if (!target.isDir && change.path === target.root && change.type !== 'modified') {
                await closeTarget(target)
              }
            }
          }
        }
        await flush(ctx, s, pending, known, Date.now())
      }
      // Stopping: what is waiting for its window is reported now rather than lost.
      await flush(ctx, s, pending, known, Number.POSITIVE_INFINITY)
    } finally {
      for (const t of targets) await closeTarget(t)
    }
  },
})

/** Starts watching a target, after remembering what is there (to tell created from modified). */
async function open(
  ctx: Ctx,
  s: Settings,
  t: Target,
  known: Set<string>,
  opened: Set<string>,
  appeared: (c: FsChange) => void,
) {
  const kind = await kindOf(ctx, t.root)
  if (kind === 'missing') {
    if (known.has(t.root)) {
      appeared({ type: 'deleted', path: t.root })
      known.delete(t.root)
    }
    return
  }
  t.isDir = kind === 'dir'
  if (!known.has(t.root)) {
    if (opened.has(t.root)) appeared({ type: 'created', path: t.root })
    known.add(t.root)
  }
  if (t.isDir) await remember(ctx, t.root, s.recursive, known)
  t.sub = await ctx.fs.watch(t.root, { recursive: s.recursive && t.isDir })
  opened.add(t.root)
  ctx.log.info('watching', { path: t.root, folder: t.isDir, recursive: s.recursive && t.isDir })
}

async function closeTarget(t: Target): Promise<void> {
  const sub = t.sub
  t.sub = undefined
  t.waiting = undefined
  await sub?.close()
}

async function kindOf(ctx: Ctx, path: string): Promise<'dir' | 'file' | 'missing'> {
  try {
    await ctx.fs.list(path)
    return 'dir'
  } catch (error) {
    const errno = isPluginError(error) ? (error.data as { errno?: unknown } | undefined)?.errno : undefined
    if (errno === 'ENOTDIR') return 'file'
    if (errno === 'ENOENT') return 'missing'
    throw error
  }
}

/** The paths under `dir` now, up to DEFAULTS.maxKnownPaths. */
async function remember(ctx: Ctx, dir: string, recursive: boolean, known: Set<string>): Promise<void> {
  let names: string[]
  try {
    names = await ctx.fs.list(dir)
  } catch {
    return // a file, or gone since
  }
  for (const name of names) {
    if (known.size >= DEFAULTS.maxKnownPaths) {
      ctx.log.warn('too many files to remember: a replaced file may be reported as created', {
        limit: DEFAULTS.maxKnownPaths,
      })
      return
    }
    const path = `${dir}/${name}`
    known.add(path)
    if (recursive) await remember(ctx, path, recursive, known)
  }
}

/** Emits the net change of every path whose window has passed. */
async function flush(ctx: Ctx, s: Settings, pending: Map<string, Pending>, known: Set<string>, now: number) {
  for (const [path, p] of pending) {
    if (p.due > now) continue
    pending.delete(path)
    if (p.existsNow) known.add(path)
    else known.delete(path)
    const change: Change | undefined = p.existedBefore
      ? p.existsNow
        ? 'modified'
        : 'deleted'
      : p.existsNow
        ? 'created'
        : undefined // created and gone again within the window: a temporary file
    if (change === undefined || !s.changes.has(change)) continue
    const relativePath = path === p.root ? (p.root.split('/').pop() ?? p.root) : path.slice(p.root.length + 1)
    const matches = (m: { re: RegExp; absolute: boolean }) => m.re.test(m.absolute ? path : relativePath)
    if (s.include.length > 0 && !s.include.some(matches)) continue
    if (s.exclude.some(matches)) continue
    await ctx.emit({
      type: `file-watch.${change}`,
      data: { name: s.name, change, path, root: p.root, relativePath },
    })
  }
}
