import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PluginKind } from './plugin-kind.js'
import { SDK_API_RANGE, SDK_PACKAGE_RANGE } from './sdk-version.js'

export interface ProjectIdentity {
  packageName: string
  description: string
  kind: PluginKind
  /** The @stavily/sdk dependency when it is vendored (`file:vendor/…tgz`); else the npm range. */
  sdkSpec?: string
}

interface TemplatePackageJson {
  name: string
  description: string
  version: string
  dependencies?: Record<string, string>
  stavily: { kind: string; sdk: string }
  [key: string]: unknown
}

/**
 * Turns a copied template into the user's project. The templates are real projects with
 * their own name and description (so they run in place); these are replaced wherever they
 * appear, and the SDK ranges come from `sdk-version.ts` rather than from the template.
 */
export async function customizeProject(targetDir: string, identity: ProjectIdentity): Promise<void> {
  const packagePath = join(targetDir, 'package.json')
  const pkg = JSON.parse(await readFile(packagePath, 'utf8')) as TemplatePackageJson
  const templateName = pkg.name
  const templateDescription = pkg.description

  pkg.name = identity.packageName
  pkg.description = identity.description
  pkg.version = '0.1.0'
  pkg.dependencies = { ...pkg.dependencies, '@stavily/sdk': identity.sdkSpec ?? SDK_PACKAGE_RANGE }
  pkg.stavily = { ...pkg.stavily, kind: identity.kind, sdk: SDK_API_RANGE }
  await writeFile(packagePath, `${JSON.stringify(pkg, null, 2)}\n`)

  const readmePath = join(targetDir, 'README.md')
  const readme = await readFile(readmePath, 'utf8')
  await writeFile(
    readmePath,
    readme
      .split(templateDescription)
      .join(identity.description)
      .split(templateName)
      .join(identity.packageName) + (identity.sdkSpec ? vendoredSdkNote(identity.sdkSpec) : ''),
  )
}

/** The README's word on vendor/: why it is there and how to move to the npm release. */
function vendoredSdkNote(spec: string): string {
  const file = spec.replace(/^file:/, '')
  return `
## The SDK in vendor/

\`@stavily/sdk\` is installed from \`${file}\`, a copy of the SDK of the Stavily checkout
this project was created from, so \`npm install\` needs nothing from npm for it. Commit
\`vendor/\` with \`package-lock.json\`. The registry builds the plugin with its own copy of
the SDK, so the tarball never reaches the published bundle. Once \`@stavily/sdk\` is on npm:
\`npm install @stavily/sdk@${SDK_PACKAGE_RANGE}\` and delete \`vendor/\`.
`
}
