import { ErrorCodes, PluginError } from '../errors.ts'
import type { ManifestProblem } from './types.ts'

/**
 * Thrown by `parseManifest` (and `createPermissionGuard` for bad patterns): code
 * `STAVILY_ERR_MANIFEST_INVALID`, every problem in `.problems` and listed in the message.
 *
 * @example
 * ```ts
 * import { ManifestError, parseManifest } from '@stavily/sdk/manifest'
 * try { parseManifest(pkg) } catch (error) {
 *   if (error instanceof ManifestError) for (const p of error.problems) console.error(`${p.path}: ${p.message}`)
 * }
 * ```
 */
export class ManifestError extends PluginError {
  readonly problems: ManifestProblem[]

  constructor(problems: ManifestProblem[], what = 'plugin manifest') {
    const lines = problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')
    super(
      ErrorCodes.MANIFEST_INVALID,
      `invalid ${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`,
      { data: { problems: problems.map((p) => ({ path: p.path, message: p.message })) } },
    )
    this.name = 'PluginError'
    this.problems = problems
  }
}
