import initial from './0001-initial.ts'
import workflows from './0002-workflows.ts'
import pluginRanges from './0003-plugin-ranges.ts'
import agentBindings from './0004-agent-bindings.ts'
import hookBindingPluginOwners from './0005-hook-binding-plugin-owners.ts'
import orgsTokensPriority from './0006-orgs-tokens-priority.ts'
import agentLoadedPlugins from './0007-agent-loaded-plugins.ts'
import orgReferencesInstanceAdmin from './0008-org-references-instance-admin.ts'

/** Numbered migrations, applied in order, each once (see ../migrate.ts). Never edit a shipped one: add the next number. */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'workflows-audit-secrets', sql: workflows },
  { version: 3, name: 'plugin-ranges', sql: pluginRanges },
  { version: 4, name: 'agent-bindings', sql: agentBindings },
  { version: 5, name: 'hook-binding-plugin-owners', sql: hookBindingPluginOwners },
  { version: 6, name: 'orgs-tokens-priority', sql: orgsTokensPriority },
  { version: 7, name: 'agent-loaded-plugins', sql: agentLoadedPlugins },
  { version: 8, name: 'org-references-instance-admin', sql: orgReferencesInstanceAdmin },
]
