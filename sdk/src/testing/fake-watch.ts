import type { FsChange, Subscription } from '../context.ts'
import { ErrorCodes, PluginError } from '../errors.ts'
import { isPathUnder } from '../manifest/fs-path.ts'
import type { PermissionGuard } from '../manifest/permission-guard.ts'
import type { PluginKind } from '../manifest/types.ts'
import { invalid, optionalObject, string } from './args.ts'
import { fakeSubscription } from './fake-subscription.ts'
import type { HarnessOptions } from './options.ts'
import type { Calls } from './recorder.ts'

/**
 * `ctx.fs.watch` of the harness (sensors): the path through the fs.read guard, then the
 * changes of `fsChanges` under it (directly under it unless `recursive`).
 */
export function fakeWatch(guard: PermissionGuard, kind: PluginKind, options: HarnessOptions, calls: Calls) {
  return async (path: unknown, watchOptions?: unknown): Promise<Subscription<FsChange>> => {
    if (kind !== 'sensor') {
      throw new PluginError(
        ErrorCodes.PERMISSION_DENIED,
        `permission denied: fs.watch is not available to ${kind} plugins`,
        {
          data: { permission: 'fs.watch', value: kind, reason: 'kind' },
        },
      )
    }
    const watched = guard.fsRead(string('fs.watch path', path))
    const raw = optionalObject('fs.watch options', watchOptions)
    if (raw.recursive !== undefined && typeof raw.recursive !== 'boolean')
      throw invalid('fs.watch options.recursive', 'a boolean', raw.recursive)
    const recursive = raw.recursive === true
    calls.watches.push({ path: watched, recursive })
    const changes = (options.fsChanges ?? []).filter((change) => {
      if (change.path === watched) return true
      if (!isPathUnder(watched, change.path)) return false
      return recursive || !change.path.slice(watched.length + 1).includes('/')
    })
    return fakeSubscription('fs.watch', changes)
  }
}
