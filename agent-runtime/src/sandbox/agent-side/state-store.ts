// Where ctx.state lives: in the agent process (not the sandbox host), so it survives a host
// restart and a hot swap; keyed by plugin name, so version N+1 sees what N stored.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export type StateValue = null | boolean | number | string | StateValue[] | { [key: string]: StateValue }

/** Per-plugin JSON key-value storage behind ctx.state. */
export interface StateStore {
  get(plugin: string, key: string): Promise<StateValue | undefined>
  set(plugin: string, key: string, value: StateValue): Promise<void>
  delete(plugin: string, key: string): Promise<void>
  /** JSON size of all of the plugin's values, bytes (for the total-size limit). */
  usage(plugin: string): Promise<number>
}

/** Keeps state in memory: for tests and agents that need no state across restarts. */
export function createMemoryStateStore(): StateStore {
  const plugins = new Map<string, Map<string, string>>()
  const of = (plugin: string) => {
    let m = plugins.get(plugin)
    if (!m) {
      m = new Map()
      plugins.set(plugin, m)
    }
    return m
  }
  return {
    async get(plugin, key) {
      const json = plugins.get(plugin)?.get(key)
      return json === undefined ? undefined : (JSON.parse(json) as StateValue)
    },
    async set(plugin, key, value) {
      of(plugin).set(key, JSON.stringify(value))
    },
    async delete(plugin, key) {
      plugins.get(plugin)?.delete(key)
    },
    async usage(plugin) {
      let total = 0
      for (const [k, v] of plugins.get(plugin) ?? []) total += Buffer.byteLength(k) + Buffer.byteLength(v)
      return total
    },
  }
}

/**
 * Keeps each plugin's state as one JSON file in `dir` (`<encoded name>.json`), rewritten
 * atomically (write a temporary file, then rename), so a crash leaves the old or the new
 * state, never half of one. Writes to one plugin are serialised.
 */
export function createFileStateStore(dir: string): StateStore {
  const cache = new Map<string, Record<string, StateValue>>()
  const chains = new Map<string, Promise<unknown>>()
  const file = (plugin: string) => join(dir, `${encodeURIComponent(plugin)}.json`)
  let ready: Promise<void> | undefined
  const init = () => {
    ready ??= (async () => {
      await mkdir(dir, { recursive: true })
      // Leftovers of writes interrupted by a crash.
      for (const name of await readdir(dir))
        if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true })
    })()
    return ready
  }
  const load = async (plugin: string) => {
    await init()
    let data = cache.get(plugin)
    if (data) return data
    try {
      data = JSON.parse(await readFile(file(plugin), 'utf8')) as Record<string, StateValue>
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      data = {}
    }
    cache.set(plugin, data)
    return data
  }
  const serial = <T>(plugin: string, fn: () => Promise<T>): Promise<T> => {
    const next = (chains.get(plugin) ?? Promise.resolve()).then(fn, fn)
    chains.set(
      plugin,
      next.catch(() => {}),
    )
    return next
  }
  const persist = async (plugin: string, data: Record<string, StateValue>) => {
    const target = file(plugin)
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`
    await writeFile(tmp, JSON.stringify(data))
    await rename(tmp, target)
  }
  return {
    async get(plugin, key) {
      const data = await load(plugin)
      return Object.hasOwn(data, key) ? structuredClone(data[key]) : undefined
    },
    set(plugin, key, value) {
      return serial(plugin, async () => {
        const data = { ...(await load(plugin)), [key]: value }
        await persist(plugin, data)
        cache.set(plugin, data)
      })
    },
    delete(plugin, key) {
      return serial(plugin, async () => {
        const data = { ...(await load(plugin)) }
        if (!Object.hasOwn(data, key)) return
        delete data[key]
        await persist(plugin, data)
        cache.set(plugin, data)
      })
    },
    async usage(plugin) {
      const data = await load(plugin)
      let total = 0
      for (const [k, v] of Object.entries(data))
        total += Buffer.byteLength(k) + Buffer.byteLength(JSON.stringify(v))
      return total
    },
  }
}
