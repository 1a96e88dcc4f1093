import semver from 'semver'

/**
 * What to change when a pool's version of a plugin is outside a workflow step's range
 * (STAVILY_ERR_PLUGIN_NOT_ENABLED's advice). A pool that moved on (a newer release was
 * enabled) is fixed in the workflow: moving the pool back would undo the release for every
 * workflow. A pool behind the step is moved forward.
 */
export function rangeFix(step: { plugin: string; pool: string; version: string }, desired: string): string {
  if (!semver.gtr(desired, step.version, { includePrerelease: true }))
    return `move the pool to a version the step allows: run \`stavily plugin enable ${step.plugin} --pool ${step.pool} --range "${step.version}"\``
  // On 0.x a caret range stops before the next minor: ^0.1.0 does not take 0.2.0.
  const zero = semver.major(desired) === 0 ? ` (on 0.x, ${step.version} stops before the next minor)` : ''
  return `the pool moved on${zero}: widen the step's range in the workflow to include ${desired} (version: "^${desired}") and apply it with \`stavily workflow apply\``
}
