import {
  defineSensor,
  type EmittedEvent,
  emitReliably,
  fingerprint,
  flushPendingEvents,
  isPluginError,
  type JsonValue,
  type SensorContext,
  Type,
} from '@stavily/sdk'
import { Config, checkConfig, type Settings } from './config.ts'
import {
  endOf,
  HEAD_CHARS,
  isSameFile,
  type Line,
  readLines,
  readTailState,
  startOf,
  type TailState,
} from './tail.ts'

const Match = Type.Object({
  name: Type.String(),
  /** The file the line was read from: config.path, or the rotated file for its last lines. */
  path: Type.String(),
  line: Type.String(),
  /** The line was longer than maxLineChars and is cut. */
  truncated: Type.Boolean(),
  lineNumber: Type.Integer(),
  /** The pattern's named groups that matched. */
  groups: Type.Record(Type.String(), Type.String()),
  /** The pattern's numbered groups, null where one did not take part in the match. */
  captures: Type.Array(Type.Union([Type.String(), Type.Null()])),
})

type MatchEvent = EmittedEvent<JsonValue>

/**
 * Reads the lines added to a log file since the last check and emits `log-file.match` for
 * each one the pattern matches. The position is kept in ctx.state, so a restarted agent goes
 * on from where it stopped; a rotated or truncated file is recognised by its beginning and
 * size (see tail.ts), its last unread lines are read from the rotated path, then the new
 * file from its start.
 */
export default defineSensor({
  config: Config,
  event: Match,

  async check(ctx) {
    const settings = checkConfig(ctx.config)
    const id = fingerprint(settings.name)
    const stateKey = `tail:${id}`
    const pendingKey = `pending:${id}`
    await flushPendingEvents(ctx, pendingKey)
    const stored = readTailState(await ctx.state.get(stateKey), settings.path)
    const current = await readIfPresent(ctx, settings.path)
    const now = new Date().toISOString()
    const events: MatchEvent[] = []
    const take = (line: Line) =>
      settings.pattern.test(line.text) && !(settings.exclude?.test(line.text) ?? false)
    const collect = (file: string, text: string, lines: Line[]) => {
      const fileId = fingerprint(firstLine(text))
      for (const line of lines) events.push(matchEvent(settings, id, file, fileId, line, now))
    }

    let next: TailState
    if (stored === undefined) {
      if (current === undefined) {
        // Not there yet: everything it will hold is new, so it is read from its start.
        ctx.log.info('log file not found; waiting for it', { path: settings.path })
        next = startOf(settings.path)
      } else if (settings.startAt === 'end') {
        next = endOf(settings.path, current)
        ctx.log.info('tailing from the end of the file', { path: settings.path, offset: next.offset })
      } else {
        const read = readLines(startOf(settings.path), current, take, settings.maxEvents)
        collect(settings.path, current, read.lines)
        next = read.next
      }
    } else if (current !== undefined && isSameFile(stored, current)) {
      const read = readLines(stored, current, take, settings.maxEvents)
      collect(settings.path, current, read.lines)
      next = read.next
    } else {
      next = await afterRotation(ctx, settings, stored, current, take, collect)
    }
    await emitReliably(ctx, pendingKey, events, () => ctx.state.set(stateKey, next as unknown as JsonValue))
  },
})

/**
 * The file at `path` is no longer the one the position points into. The rest of the old
 * file is read from the rotated path (when the file there starts as the old one did), then
 * the new file from its start; if the rotated file's rest holds more matches than one check
 * may emit, the position stays in the rotated file until they are all out.
 */
async function afterRotation(
  ctx: SensorContext<unknown, unknown>,
  settings: Settings,
  stored: TailState,
  current: string | undefined,
  take: (line: Line) => boolean,
  collect: (file: string, text: string, lines: Line[]) => void,
): Promise<TailState> {
  let budget = settings.maxEvents
  if (stored.offset > 0) {
    const rotated = await readIfPresent(ctx, settings.rotatedPath)
    if (rotated !== undefined && isSameFile(stored, rotated)) {
      const read = readLines(stored, rotated, take, budget, true)
      collect(settings.rotatedPath, rotated, read.lines)
      if (read.next.offset < rotated.length) return read.next
      budget -= read.lines.length
      ctx.log.info('log file rotated; read the rest of the rotated file', {
        path: settings.path,
        rotatedPath: settings.rotatedPath,
        lines: read.next.lineNumber - stored.lineNumber,
      })
    } else {
      ctx.log.warn(
        'log file rotated or truncated, and the old file is not at rotatedPath: lines written to it after the last check are not read',
        { path: settings.path, rotatedPath: settings.rotatedPath },
      )
    }
  }
  if (current === undefined) return startOf(settings.path)
  if (budget === 0) return startOf(settings.path)
  const read = readLines(startOf(settings.path), current, take, budget)
  collect(settings.path, current, read.lines)
  return read.next
}

function matchEvent(
  settings: Settings,
  id: string,
  file: string,
  fileId: string,
  line: Line,
  now: string,
): MatchEvent {
  const m = settings.pattern.exec(line.text)
  const groups: Record<string, string> = {}
  for (const [key, value] of Object.entries(m?.groups ?? {})) if (value !== undefined) groups[key] = value
  const truncated = line.text.length > settings.maxLineChars
  return {
    type: 'log-file.match',
    data: {
      name: settings.name,
      path: file,
      line: truncated ? line.text.slice(0, settings.maxLineChars) : line.text,
      truncated,
      lineNumber: line.number,
      groups,
      captures: m === null ? [] : m.slice(1).map((c) => c ?? null),
    },
    // The line's place in its file (named by its first line): the same line read again, from
    // the rotated file or after a failed check, starts no second run.
    dedupeKey: `log-file:${id}:${fileId}:${line.start}`,
    occurredAt: now,
  }
}

function firstLine(text: string): string {
  const newline = text.indexOf('\n')
  return text.slice(0, Math.min(HEAD_CHARS, newline === -1 ? text.length : newline))
}

/** The file's text, or undefined when it does not exist (between a rotation and the new file). */
async function readIfPresent(
  ctx: SensorContext<unknown, unknown>,
  path: string,
): Promise<string | undefined> {
  try {
    return await ctx.fs.readText(path)
  } catch (error) {
    if (isPluginError(error) && (error.data as { errno?: unknown } | undefined)?.errno === 'ENOENT') {
      return undefined
    }
    throw error
  }
}
