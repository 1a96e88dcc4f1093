import type { Colors } from './colors.js'
import type { PluginKind } from './plugin-kind.js'

/**
 * Which package manager ran us, from the user agent npm, pnpm, yarn and bun all set for
 * `create` commands; the next steps then use the same one. Anything unknown reads as npm.
 */
export function packageManagerFrom(userAgent: string | undefined): string {
  const name = userAgent?.split('/')[0]
  return name === 'pnpm' || name === 'yarn' || name === 'bun' ? name : 'npm'
}

export function nextSteps(options: {
  folder: string
  packageName: string
  kind: PluginKind
  packageManager: string
  colors: Colors
  /** Set when @stavily/sdk was vendored (`file:vendor/…tgz`). */
  sdkSpec?: string | undefined
}): string {
  const { folder, packageName, kind, packageManager: pm, colors: c, sdkSpec } = options
  const run = (script: string) => (pm === 'npm' ? `npm run ${script}` : `${pm} ${script}`)
  const steps = [
    ...(folder === '.' ? [] : [`cd ${folder.includes(' ') ? `"${folder}"` : folder}`]),
    `${pm} install${sdkSpec ? `       ${c.dim(`# @stavily/sdk from ${sdkSpec.replace(/^file:/, '')}, not npm`)}` : ''}`,
    `${pm} test          ${c.dim('# the example handler and its permission checks')}`,
    `${run('build')}     ${c.dim('# dist/plugin.js, the bundle the registry builds too')}`,
  ]
  return [
    '',
    `${c.green('Done.')} Created the ${kind} plugin ${c.bold(packageName)} in ${c.cyan(folder === '.' ? 'the current folder' : `./${folder}`)}.`,
    '',
    'Next steps:',
    ...steps.map((step) => `  ${step}`),
    '',
    ...(sdkSpec ? ['Commit vendor/ with package-lock.json: see the README.', ''] : []),
    `To publish, push it to a Git repository, tag it with its version, and run`,
    `  stavily plugin publish --repo <git-url> --ref v0.1.0`,
    '',
  ].join('\n')
}
