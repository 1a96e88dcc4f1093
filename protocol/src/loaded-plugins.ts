// What an agent reports it has loaded, with each heartbeat: the plugins (name@version)
// running in its sandbox, which can differ from what its pool is told to load (a version
// still downloading, refused by the agent's local policy, or failing to load). The
// orchestrator stores the last report and shows it with the agent. A breaking change here
// is /agents/v2.
import { type Static, Type } from 'typebox'

export const LOADED_PLUGIN_LIMITS = {
  /** Plugins per report: far above what one sandbox runs, low enough to bound a row. */
  count: 500,
  /** A plugin name: an npm package name's limit. */
  nameLength: 214,
  /** A version (semver with prerelease and build). */
  versionLength: 100,
} as const

export const LoadedPlugin = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: LOADED_PLUGIN_LIMITS.nameLength,
      pattern: '^[@A-Za-z0-9][@A-Za-z0-9._/-]*$',
    }),
    version: Type.String({ minLength: 1, maxLength: LOADED_PLUGIN_LIMITS.versionLength }),
  },
  { additionalProperties: false },
)

export const LoadedPlugins = Type.Array(LoadedPlugin, {
  maxItems: LOADED_PLUGIN_LIMITS.count,
  description:
    'the plugins loaded in the agent right now (name, version); sent with heartbeats. An agent that never sends it shows none reported',
})

export type LoadedPlugin = Static<typeof LoadedPlugin>
