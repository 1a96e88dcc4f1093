// The desired plugin set and sensor assignments as the orchestrator's /plugins answers them,
// read liberally (missing fields get defaults), and kept in <dataDir>/desired.json so a
// restart with the orchestrator down runs the same plugins and sensors.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileDurable } from './files.ts'

export interface DesiredPlugin {
  name: string
  version: string
}

export interface SensorAssignment {
  id: string
  revision: number
  plugin: string
  version: string
  config: Record<string, unknown>
  intervalMs: number | null
  watch: boolean
  secrets: Record<string, string>
}

export interface DesiredSet {
  plugins: DesiredPlugin[]
  sensors: SensorAssignment[]
}

/** Reads a /plugins answer; entries without a name and version are skipped. */
export function parseDesired(body: unknown): DesiredSet {
  const b = (body ?? {}) as { plugins?: unknown; sensors?: unknown }
  const plugins: DesiredPlugin[] = []
  for (const p of Array.isArray(b.plugins) ? b.plugins : []) {
    if (p && typeof p.name === 'string' && typeof p.version === 'string')
      plugins.push({ name: p.name, version: p.version })
  }
  const sensors: SensorAssignment[] = []
  for (const s of Array.isArray(b.sensors) ? b.sensors : []) {
    if (!s || typeof s.id !== 'string' || typeof s.plugin !== 'string') continue
    const watch = s.watch === true
    sensors.push({
      id: s.id,
      revision: typeof s.revision === 'number' ? s.revision : 0,
      plugin: s.plugin,
      version:
        typeof s.version === 'string' ? s.version : (plugins.find((p) => p.name === s.plugin)?.version ?? ''),
      config: s.config && typeof s.config === 'object' ? s.config : {},
      intervalMs: watch ? null : typeof s.intervalMs === 'number' && s.intervalMs > 0 ? s.intervalMs : 60_000,
      watch,
      secrets: s.secrets && typeof s.secrets === 'object' ? s.secrets : {},
    })
  }
  return { plugins, sensors }
}

export function readDesired(dataDir: string): DesiredSet | undefined {
  const file = join(dataDir, 'desired.json')
  if (!existsSync(file)) return undefined
  try {
    return parseDesired(JSON.parse(readFileSync(file, 'utf8')))
  } catch {
    return undefined
  }
}

/** Sensor secrets are kept out of the file: they come back with the next /plugins answer. */
export function writeDesired(dataDir: string, d: DesiredSet): void {
  const stored = { plugins: d.plugins, sensors: d.sensors.map((s) => ({ ...s, secrets: {} })) }
  writeFileDurable(join(dataDir, 'desired.json'), JSON.stringify(stored))
}
