// Checks a load/swap request on the agent side, before anything reaches the sandbox host:
// the manifest (with the SDK's validator), the SDK range, the grants and the limits.
import {
  createPermissionGuard,
  type Grants,
  isSdkCompatible,
  type PluginManifest,
  SDK_API_VERSION,
  validateManifest,
} from '@stavily/sdk/manifest'
import { DEFAULT_LIMITS, MIN_LIMITS, type PluginLimits } from '../../defaults.ts'
import { SandboxErrorCodes, sandboxError } from '../../errors.ts'
import { checkDefinitions, type GrantsWithConnections } from '../host/capabilities/connections.ts'

/** What the agent gives the sandbox to load one plugin version. */
export interface PluginSpec {
  /** The plugin's package.json (name, version and the `stavily` manifest). */
  manifest: unknown
  /** The bundle: one self-contained script built with the SDK's PLUGIN_BUNDLE_OPTIONS. */
  bundle: string
  /** What the operator granted; the plugin gets declared ∩ granted. */
  grants?: Partial<Grants>
  /** Operator: host names may resolve to private addresses (RFC 1918, ULA, link-local). */
  allowPrivateNetwork?: boolean
  /** Operator overrides of the default limits for this plugin. */
  limits?: Partial<PluginLimits>
}

export interface CheckedSpec {
  manifest: PluginManifest
  bundle: string
  grants: Grants
  allowPrivateNetwork: boolean
  limits: PluginLimits
}

/** Largest bundle accepted: a plugin is glue code, and the bundle is compiled on every load. */
const MAX_BUNDLE_BYTES = 16 * 1024 * 1024

export function checkSpec(spec: unknown, baseLimits: PluginLimits): CheckedSpec {
  if (spec === null || typeof spec !== 'object') {
    throw invalid('spec', 'an object { manifest, bundle, grants?, limits? }', spec)
  }
  const s = spec as Record<string, unknown>
  const validation = validateManifest(s.manifest)
  if (!validation.ok) {
    const problems = validation.problems.map((p) => `${p.path}: ${p.message}`).join('; ')
    throw sandboxError(SandboxErrorCodes.MANIFEST_INVALID, `invalid plugin manifest: ${problems}`, {
      data: { problems: validation.problems },
    })
  }
  const manifest = validation.manifest
  if (!isSdkCompatible(manifest.sdk)) {
    throw sandboxError(
      SandboxErrorCodes.SDK_INCOMPATIBLE,
      `plugin ${manifest.name}@${manifest.version} requires SDK API "${manifest.sdk}" but this agent implements SDK API ${SDK_API_VERSION}; rebuild the plugin against a compatible @stavily/sdk or upgrade the agent`,
      { data: { range: manifest.sdk, apiVersion: SDK_API_VERSION } },
    )
  }
  if (typeof s.bundle !== 'string' || s.bundle.length === 0)
    throw invalid('bundle', 'the plugin bundle as a non-empty string', s.bundle)
  if (Buffer.byteLength(s.bundle) > MAX_BUNDLE_BYTES) {
    throw invalid('bundle', `at most ${MAX_BUNDLE_BYTES} bytes`, `${Buffer.byteLength(s.bundle)} bytes`)
  }
  const g = (s.grants ?? {}) as Record<string, unknown>
  if (typeof g !== 'object' || g === null || Array.isArray(g))
    throw invalid('grants', 'an object { net, exec, secrets, fs, env }', g)
  const fs = (g.fs ?? {}) as Record<string, unknown>
  const names: Grants = {
    net: (g.net ?? []) as string[],
    exec: (g.exec ?? []) as string[],
    secrets: (g.secrets ?? []) as string[],
    fs: { read: (fs.read ?? []) as string[], write: (fs.write ?? []) as string[] },
    ...(g.env === undefined ? {} : { env: g.env as string[] }),
    ...(g.sql === undefined ? {} : { sql: g.sql as string[] }),
    ...(g.smtp === undefined ? {} : { smtp: g.smtp as string[] }),
  }
  try {
    // The same grammar as the manifest's permissions; checked here so a bad grant fails the load.
    createPermissionGuard(manifest.permissions, names)
  } catch (err) {
    throw sandboxError(SandboxErrorCodes.INVALID_ARGUMENT, `grants: ${(err as Error).message}`, {
      cause: err,
    })
  }
  // The operator's connection and relay definitions travel beside the names to the sandbox
  // host (capabilities/connections.ts), checked with the rules the agent's configuration uses.
  const fail = (field: string, message: string) =>
    sandboxError(SandboxErrorCodes.INVALID_ARGUMENT, `${field}: ${message}`)
  const c = (g.connections ?? {}) as Record<string, unknown>
  const connections = {
    sql: checkDefinitions('sql', c.sql, 'grants.connections.sql', fail),
    smtp: checkDefinitions('smtp', c.smtp, 'grants.connections.smtp', fail),
  }
  const grants: GrantsWithConnections = { ...names, connections }
  if (s.allowPrivateNetwork !== undefined && typeof s.allowPrivateNetwork !== 'boolean') {
    throw invalid('allowPrivateNetwork', 'a boolean', s.allowPrivateNetwork)
  }
  return {
    manifest,
    bundle: s.bundle,
    grants,
    allowPrivateNetwork: s.allowPrivateNetwork === true,
    limits: checkLimits(s.limits, baseLimits, 'limits'),
  }
}

/** Merges overrides onto `base`, each a positive integer not under its minimum. */
export function checkLimits(value: unknown, base: PluginLimits, where: string): PluginLimits {
  if (value === undefined) return base
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalid(where, 'an object of limits', value)
  const out = { ...base }
  for (const [key, v] of Object.entries(value)) {
    if (!(key in DEFAULT_LIMITS)) {
      throw invalid(`${where}.${key}`, `one of ${Object.keys(DEFAULT_LIMITS).join(', ')}`, key)
    }
    const min = MIN_LIMITS[key as keyof PluginLimits] ?? 0
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw invalid(`${where}.${key}`, `an integer ≥ ${min}`, v)
    }
    out[key as keyof PluginLimits] = v
  }
  return out
}

function invalid(field: string, expected: string, got: unknown): Error {
  const shown =
    typeof got === 'string' ? JSON.stringify(got.length > 80 ? `${got.slice(0, 80)}…` : got) : typeof got
  return sandboxError(SandboxErrorCodes.INVALID_ARGUMENT, `${field}: expected ${expected}, got ${shown}`)
}
