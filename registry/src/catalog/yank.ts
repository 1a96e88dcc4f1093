import { setLatest } from '../storage/plans/plugins.ts'
import { listVersions, type VersionRow, yankVersion } from '../storage/plans/versions.ts'
import { run, type SqlClient } from '../storage/sql-client.ts'
import type { TufRepository } from '../tuf/repository.ts'
import { targetPath } from '../tuf/target-path.ts'
import type { PluginVersion } from '../types.ts'
import { toPluginVersion } from '../version-record.ts'
import { latestStable } from './latest.ts'
import { pluginVersion } from './queries.ts'
import { targetFileFor } from './record-version.ts'

/**
 * Yanks a version: range resolution skips it from now on, its artifact stays downloadable by
 * exact version (running agents keep working), and its signed target says `yanked: true`.
 * Yanking a yanked version changes nothing.
 */
export async function yank(
  sql: SqlClient,
  schema: string,
  tuf: TufRepository,
  name: string,
  version: string,
  reason: string,
): Promise<PluginVersion> {
  return sql.transaction(async (tx) => {
    await tuf.lock(tx)
    const current = await pluginVersion(tx, schema, name, version)
    if (current.yanked) return current
    const [row] = await run<VersionRow>(tx, yankVersion(schema, name, version, reason))
    const yanked = toPluginVersion(row!)
    const all = (await run<VersionRow>(tx, listVersions(schema, name))).map(toPluginVersion)
    await run(tx, setLatest(schema, name, latestStable(all)))
    await tuf.updateTargets(tx, (targets) => {
      targets[targetPath(name, version)] = targetFileFor(yanked, yanked.digest.replace(/^sha256:/, ''))
    })
    return yanked
  })
}
