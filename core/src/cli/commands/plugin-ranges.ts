import semver from 'semver'
import { type ApiClient, itemsOf } from '../api-client.ts'
import type { Output } from '../output.ts'
import { enc } from './workflow-document.ts'

// Two ranges decide what runs: the pool's (`plugin enable --range`: which version the
// pool's agents load) and each workflow step's (`version:`: which versions the step
// accepts). On 0.x a caret range stops before the next minor, so a release can reach no
// pool, or reach one and leave its workflows behind. These say so where it happens.

interface Enabled {
  pool: string
  range: string | null
  version: string
}

interface StepRef {
  id?: string
  plugin?: string
  version?: string
  pool?: string
}

/** After a publish: which pools moved to `version`, and which ranges it missed. */
export async function reportPools(api: ApiClient, out: Output, name: string, version: string): Promise<void> {
  const rows = itemsOf<{ name: string; enabled?: Enabled[] }>(
    await api.get('/plugins', { q: name }),
    'plugins',
  )
  const enabled = rows.find((p) => p.name === name)?.enabled ?? []
  if (enabled.length === 0) {
    out.note(`not enabled in any pool yet: stavily plugin enable ${name} --pool POOL --range "^${version}"`)
    return
  }
  for (const e of enabled) {
    if (e.version === version) out.note(`pool ${e.pool}: now runs ${version} (range ${e.range ?? version})`)
    else
      out.warn(
        `pool ${e.pool} stays on ${e.version}: its range ${e.range ?? e.version} does not include ${version}${semver.major(version) === 0 ? ' (on 0.x, ^ stops before the next minor)' : ''}; to move it: stavily plugin enable ${name} --pool ${e.pool} --range "^${version}"`,
      )
  }
}

/** After an enable: the workflow steps on `pool` whose range leaves out `version` (their runs would fail). */
export async function warnStepsOutside(
  api: ApiClient,
  out: Output,
  name: string,
  pool: string,
  version: string,
): Promise<void> {
  const workflows = itemsOf<{ name: string }>(await api.get('/workflows', { limit: 500 }), 'workflows')
  for (const w of workflows) {
    const detail = await api.get<{
      definition?: { trigger?: StepRef; actions?: StepRef[]; outputs?: StepRef[] }
    }>(`/workflows/${enc(w.name)}`)
    const d = detail.definition ?? {}
    const steps = [{ ...d.trigger, id: 'trigger' }, ...(d.actions ?? []), ...(d.outputs ?? [])]
    for (const s of steps) {
      if (s.plugin !== name || s.pool !== pool || typeof s.version !== 'string') continue
      if (semver.satisfies(version, s.version, { includePrerelease: true })) continue
      out.warn(
        `workflow ${w.name}, step ${s.id}: its range ${s.version} does not include ${version}, so its runs will fail with STAVILY_ERR_PLUGIN_NOT_ENABLED; widen it in the workflow (version: "^${version}") and apply it with stavily workflow apply`,
      )
    }
  }
}
