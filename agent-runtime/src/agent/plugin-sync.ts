// Reconciles the sandbox with the desired plugin set: loads what is missing, hot-swaps a
// new version beside the old one (calls in flight finish on the old one; none is dropped),
// unloads what was removed. One reconcile at a time; a failure leaves the old version serving.
import type { PluginLimits } from '../defaults.ts'
import type { Sandbox } from '../sandbox/sandbox.ts'
import type { AgentConfig, GrantConfig } from './config.ts'
import type { DesiredPlugin } from './desired.ts'
import { devBuildRefusal } from './dev-builds.ts'
import { AgentError, AgentErrorCodes } from './errors.ts'
import { policyRefusal } from './local-policy.ts'
import type { Logger } from './logger.ts'
import { mergeGrants } from './merge-grants.ts'
import type { PluginStore } from './plugin-store.ts'

export class PluginSync {
  /** Why a desired plugin is not running (verification refused, unavailable, bad load). */
  readonly failures = new Map<string, AgentError>()
  /** Desired plugins of the other agent kind: verified and cached, not loaded here. */
  readonly otherKind = new Set<string>()
  private chain: Promise<void> = Promise.resolve()
  private desired: DesiredPlugin[] = []

  constructor(
    private readonly sandbox: Sandbox,
    private readonly store: PluginStore,
    private readonly config: AgentConfig,
    private readonly log: Logger,
    /** Sensor agents run only sensors; action agents run actions and outputs. */
    private readonly agentKind: 'sensor' | 'action',
    /** The agent's pool: dev builds load only in a dev pool (dev-builds.ts). */
    private readonly pool?: string,
  ) {}

  private runs(kind: string): boolean {
    return this.agentKind === 'sensor' ? kind === 'sensor' : kind !== 'sensor'
  }

  /** Queues a reconcile to `desired` (or the last desired set) and resolves when it ran. */
  reconcile(desired?: DesiredPlugin[]): Promise<void> {
    if (desired) this.desired = desired
    const next = this.chain.then(() => this.run(this.desired))
    this.chain = next.catch(() => {})
    return next
  }

  /** A plugin's grants: global ∪ per-plugin (see merge-grants.ts). */
  grantsFor(name: string): GrantConfig {
    return mergeGrants(this.config.grants, this.config.plugins[name]?.grants)
  }

  private limitsFor(name: string): Partial<PluginLimits> {
    return { ...this.config.limits, ...this.config.plugins[name]?.limits }
  }

  private async run(desired: DesiredPlugin[]): Promise<void> {
    const loaded = new Map(this.sandbox.list().map((p) => [p.name, p]))
    // A pool's desired set holds every kind; the kind comes from the signed target, so a
    // plugin this agent never runs is downloaded and verified (cached) but not loaded.
    const notMine = new Set<string>()
    for (const want of desired) {
      const current = loaded.get(want.name)
      if (current?.version === want.version) {
        this.failures.delete(want.name)
        continue
      }
      try {
        const { bundle, target } = await this.store.obtain(want.name, want.version)
        if (!this.runs(target.kind)) {
          notMine.add(want.name)
          this.failures.delete(want.name)
          continue
        }
        // The agent's own allow list decides what is loaded. It is checked once the signed
        // target says the kind: a pool's set holds both kinds, and a sensor agent's list
        // need not name the pool's actions. Downloading and verifying runs nothing.
        const refusal =
          policyRefusal(this.config.allowPlugins, want.name, want.version) ??
          devBuildRefusal(this.pool, want.name, want.version)
        if (refusal) {
          if (this.failures.get(want.name)?.message !== refusal)
            this.log.error(
              {
                plugin: want.name,
                version: want.version,
                code: AgentErrorCodes.PLUGIN_NOT_ALLOWED,
                error: refusal,
              },
              'plugin not loaded: outside the local policy',
            )
          this.failures.set(
            want.name,
            new AgentError(AgentErrorCodes.PLUGIN_NOT_ALLOWED, refusal, {
              data: { plugin: want.name, version: want.version },
            }),
          )
          continue
        }
        // The manifest comes from the signed target, never from the unsigned /plugins answer.
        const manifest = {
          name: target.name,
          version: target.version,
          stavily: { kind: target.kind, entry: 'index.js', sdk: target.sdk, permissions: target.permissions },
        }
        const { allowPrivateNetwork, ...grants } = this.grantsFor(want.name)
        const spec = { manifest, bundle, grants, allowPrivateNetwork, limits: this.limitsFor(want.name) }
        if (current) {
          const swapped = await this.sandbox.swap(spec)
          this.log.info(
            { plugin: want.name, from: swapped.previous, to: swapped.current },
            'plugin hot-swapped',
          )
          void swapped.drained.then(() =>
            this.log.debug(
              { plugin: want.name, version: swapped.previous },
              'previous plugin version drained',
            ),
          )
        } else {
          const info = await this.sandbox.load(spec)
          this.log.info(
            { plugin: want.name, version: want.version, kind: info.kind, loadMs: Math.round(info.loadMs) },
            'plugin loaded',
          )
        }
        this.failures.delete(want.name)
      } catch (err) {
        const e =
          err instanceof AgentError
            ? err
            : new AgentError(
                AgentErrorCodes.PLUGIN_REFUSED,
                `plugin ${want.name}@${want.version} could not be loaded: ${(err as Error).message}`,
                {
                  retryable: false,
                  cause: err,
                  data: { plugin: want.name, version: want.version, code: (err as { code?: string }).code },
                },
              )
        this.failures.set(want.name, e)
        this.log.error(
          { plugin: want.name, version: want.version, code: e.code, error: e.message },
          'plugin not loaded',
        )
      }
    }
    this.otherKind.clear()
    for (const name of notMine) this.otherKind.add(name)
    const wanted = new Set(desired.map((d) => d.name).filter((name) => !notMine.has(name)))
    for (const name of loaded.keys()) {
      if (wanted.has(name)) continue
      await this.sandbox.unload(name)
      this.failures.delete(name)
      this.log.info({ plugin: name }, 'plugin unloaded (no longer desired)')
    }
  }
}
