import { CreateError } from './errors.js'

/** The plugin kinds Stavily runs; each has a `template-<kind>` folder beside `src/`. */
export const PLUGIN_KINDS = ['sensor', 'action', 'output'] as const
export type PluginKind = (typeof PLUGIN_KINDS)[number]

/** What each kind does, shown in the prompt so a newcomer can choose without the docs. */
export const KIND_SUMMARIES: Record<PluginKind, string> = {
  sensor: 'observes something and emits events (never changes anything)',
  action: 'changes something when a workflow runs it',
  output: 'delivers a workflow result somewhere (chat, webhook, log)',
}

export function isPluginKind(value: string): value is PluginKind {
  return (PLUGIN_KINDS as readonly string[]).includes(value)
}

export function parsePluginKind(value: string, source: string): PluginKind {
  const kind = value.trim().toLowerCase()
  if (isPluginKind(kind)) return kind
  throw new CreateError(
    'STAVILY_ERR_CREATE_INVALID_KIND',
    `${source}: "${value}" is not a plugin kind; use one of ${PLUGIN_KINDS.join(', ')} (e.g. --kind action)`,
  )
}

export function defaultDescription(kind: PluginKind): string {
  return `A Stavily ${kind} plugin`
}
