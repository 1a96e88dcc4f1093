// Which plugin versions the sandbox host has loaded and which one takes each name's calls.
// A name routes to one version; during a swap the old version stays loaded (draining) until
// its calls are done.

import type { LoadRequest, PluginInfo } from '../protocol.ts'
import type { LoadedPlugin } from './api.ts'
import type { CheckedSpec } from './load-spec.ts'

export interface Route {
  key: string
  spec: CheckedSpec
  info: PluginInfo
  inFlight: number
  draining: boolean
  /** Time the host took to create the isolate and evaluate the bundle, ms. */
  loadMs: number
  drained?: () => void
  counters: { calls: number; failures: number; cpuUs: number }
}

export class Routes {
  /** The version taking new calls, by plugin name. */
  readonly current = new Map<string, Route>()
  /** Every version the host has loaded, current or draining, by key. */
  readonly loaded = new Map<string, Route>()
  private nextKey = 1

  /** A new key for a version about to be loaded (the same version may be loaded twice). */
  newKey(spec: CheckedSpec): string {
    return `${spec.manifest.name}@${spec.manifest.version}#${this.nextKey++}`
  }

  /** The largest CPU limit among the loaded versions (at least `floor`). */
  maxCpuMs(floor: number): number {
    let max = floor
    for (const route of this.loaded.values()) max = Math.max(max, route.spec.limits.cpuMs)
    return max
  }
}

/** What the sandbox host needs to load one version. */
export function loadRequest(key: string, spec: CheckedSpec): LoadRequest {
  return {
    key,
    name: spec.manifest.name,
    version: spec.manifest.version,
    kind: spec.manifest.kind,
    bundle: spec.bundle,
    limits: spec.limits,
    declared: spec.manifest.permissions,
    granted: spec.grants,
    allowPrivateNetwork: spec.allowPrivateNetwork,
  }
}

export function describe(route: Route): LoadedPlugin {
  return {
    name: route.spec.manifest.name,
    version: route.spec.manifest.version,
    kind: route.info.kind,
    operations: route.info.operations,
    sdkApiVersion: route.info.sdkApiVersion,
    loadMs: route.loadMs,
  }
}
