// Real host-side objects for the capability modules' unit tests (src/sandbox/host/capabilities):
// a PluginInstance whose spec went through the agent side's own checks (checkSpec, then the
// LoadRequest the host receives), and a call's state as the host keeps it. No isolate: the
// tests call the capabilities directly, as the isolate's host calls do.
import { SDK_API_VERSION } from '@stavily/sdk'
import { createPermissionGuard, type PermissionGuard } from '@stavily/sdk/manifest'
import { DEFAULT_LIMITS, type PluginLimits } from '../../src/defaults.ts'
import { SandboxErrorCodes } from '../../src/errors.ts'
import { checkSpec } from '../../src/sandbox/agent-side/load-spec.ts'
import { loadRequest } from '../../src/sandbox/agent-side/routes.ts'
import { type CallState, newCallState } from '../../src/sandbox/host/call-state.ts'
import {
  type Connections,
  credentialSecrets,
  type GrantsWithConnections,
  splitGrants,
} from '../../src/sandbox/host/capabilities/connections.ts'
import { type CapabilityHost, PluginInstance } from '../../src/sandbox/host/plugin-instance.ts'
import type { SparePool } from '../../src/sandbox/host/runtime.ts'
import { SliceScheduler } from '../../src/sandbox/host/slice-scheduler.ts'
import type { InvokeRequest, Operation, PluginKind } from '../../src/sandbox/protocol.ts'
import { manifest } from './build-fixture.ts'

export interface HostPluginOptions {
  name?: string
  kind?: PluginKind
  /** The manifest's `stavily.permissions`. */
  permissions?: Record<string, unknown>
  /** The operator's grants, with `connections` (sql and smtp definitions) if any. */
  grants?: Record<string, unknown>
  limits?: Partial<PluginLimits>
  /** What runs its capabilities; only the instance's own host calls use it. */
  caps?: CapabilityHost
}

const OPERATIONS: Record<PluginKind, Operation[]> = {
  action: ['run', 'check'],
  output: ['send', 'check'],
  sensor: ['check', 'watch'],
}

// The pool only hands out isolates when a bundle is loaded, which these tests never do.
const NO_POOL = undefined as unknown as SparePool

/** A loaded plugin as the sandbox host holds it, without its isolate. */
export function hostPlugin(o: HostPluginOptions = {}): PluginInstance {
  const kind = o.kind ?? 'action'
  const name = o.name ?? '@acme/caps'
  const checked = checkSpec(
    {
      manifest: manifest(name, { kind, permissions: o.permissions ?? {} }),
      bundle: 'unused',
      grants: o.grants ?? {},
      limits: o.limits,
    },
    DEFAULT_LIMITS,
  )
  const caps = o.caps ?? { handle: () => undefined }
  const plugin = new PluginInstance(
    loadRequest(`${name}@1.0.0#1`, checked),
    NO_POOL,
    caps,
    () => {},
    new SliceScheduler(),
  )
  plugin.info = { kind, sdkApiVersion: SDK_API_VERSION, schemas: {}, operations: OPERATIONS[kind] }
  return plugin
}

let nextId = 1

/** A call's state on the host; `deadline` defaults to a minute from now. */
export function hostCall(req: Partial<InvokeRequest> = {}): CallState {
  return newCallState({
    id: nextId++,
    key: '@acme/caps@1.0.0#1',
    name: '@acme/caps',
    operation: 'run',
    payload: '{}',
    secrets: {},
    deadline: Date.now() + 60_000,
    streamEvents: false,
    ...req,
  })
}

/**
 * What the capability dispatch derives from a plugin's grants (dispatch.ts): the permission
 * guard over the names, the sql and smtp definitions beside them, and which secrets are
 * connection passwords.
 */
export function hostGrants(plugin: PluginInstance): {
  guard: PermissionGuard
  connections: Connections
  credentials: Map<string, string>
} {
  const { grants, connections } = splitGrants(plugin.spec.granted as GrantsWithConnections)
  return {
    guard: createPermissionGuard(plugin.spec.declared, grants),
    connections,
    credentials: credentialSecrets(connections),
  }
}

/** What a call rejects with, as the fields a plugin sees. */
export async function rejection(p: Promise<unknown>) {
  try {
    await p
  } catch (err) {
    const e = err as { code: string; message: string; data?: unknown; retryable: boolean }
    return { code: e.code, message: e.message, data: e.data, retryable: e.retryable }
  }
  throw new Error('expected a rejection')
}

/** A CAPABILITY_FAILED rejection as `rejection()` reads it. */
export const failed = (message: string, extra: { data?: unknown; retryable?: boolean } = {}) => ({
  code: SandboxErrorCodes.CAPABILITY_FAILED,
  message,
  data: extra.data,
  retryable: extra.retryable ?? false,
})
