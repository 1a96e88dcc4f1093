import { execFile } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { copyFile, mkdir, readdir } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CreateError } from './errors.js'

// Where the new project's @stavily/sdk comes from. Until the SDK is on npm, `npm install`
// of the published range answers 404; so inside a Stavily checkout (or with --sdk) the SDK
// is packed into the project's vendor/ folder and the dependency points at that tarball:
// `npm install` then needs nothing from npm for it, and package-lock.json can be committed
// (the tarball is in the repository beside it). The registry builds with its own copy of
// the SDK, so vendor/ never reaches a published bundle.

export type SdkSource = { kind: 'npm' } | { kind: 'tarball'; path: string } | { kind: 'folder'; path: string }

const SDK_NAME = '@stavily/sdk'
export const VENDOR_DIR = 'vendor'

/** The SDK of the Stavily checkout this scaffolder runs from, if it does (templates/ beside sdk/). */
export function checkoutSdk(): string | undefined {
  // src/ (tsx) and dist/ (built) both sit one level below templates/.
  const dir = fileURLToPath(new URL('../../sdk/', import.meta.url))
  const pkg = join(dir, 'package.json')
  if (!existsSync(pkg)) return undefined
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === SDK_NAME ? dir : undefined
  } catch {
    return undefined
  }
}

/** `--sdk npm|PATH|TARBALL`, or without it: this checkout's SDK when there is one, else npm. */
export function resolveSdkSource(flag: string | undefined, cwd: string): SdkSource {
  if (flag === 'npm') return { kind: 'npm' }
  if (flag === undefined) {
    const local = checkoutSdk()
    return local ? { kind: 'folder', path: local } : { kind: 'npm' }
  }
  const path = resolve(cwd, flag)
  if (!existsSync(path))
    throw new CreateError(
      'STAVILY_ERR_CREATE_USAGE',
      `--sdk ${flag}: no such file or folder. Pass the sdk folder of a Stavily checkout, a tarball from \`npm pack -w sdk\`, or npm`,
    )
  if (statSync(path).isDirectory()) return { kind: 'folder', path }
  if (!path.endsWith('.tgz'))
    throw new CreateError(
      'STAVILY_ERR_CREATE_USAGE',
      `--sdk ${flag}: expected a folder or a .tgz tarball of ${SDK_NAME}`,
    )
  return { kind: 'tarball', path }
}

/**
 * Puts the SDK tarball into `<project>/vendor/` and answers the dependency spec for
 * package.json (`file:vendor/stavily-sdk-0.1.0.tgz`), or undefined for the npm range.
 */
export async function vendorSdk(targetDir: string, source: SdkSource): Promise<string | undefined> {
  if (source.kind === 'npm') return undefined
  const vendor = join(targetDir, VENDOR_DIR)
  await mkdir(vendor, { recursive: true })
  if (source.kind === 'tarball') {
    await copyFile(source.path, join(vendor, basename(source.path)))
    return `file:${VENDOR_DIR}/${basename(source.path)}`
  }
  const pkg = JSON.parse(readFileSync(join(source.path, 'package.json'), 'utf8')) as { name?: unknown }
  if (pkg.name !== SDK_NAME)
    throw new CreateError(
      'STAVILY_ERR_CREATE_USAGE',
      `--sdk ${source.path}: its package.json names ${String(pkg.name)}, not ${SDK_NAME}`,
    )
  if (!existsSync(join(source.path, 'dist', 'index.js')))
    throw new CreateError(
      'STAVILY_ERR_CREATE_USAGE',
      `the SDK in ${source.path} is not built: run \`npm run build\` in the Stavily checkout first (or pass --sdk npm)`,
    )
  const before = new Set(await readdir(vendor))
  try {
    await promisify(execFile)(
      'npm',
      ['pack', source.path, '--ignore-scripts', '--pack-destination', vendor],
      {
        cwd: vendor,
        timeout: 120_000,
      },
    )
  } catch (error) {
    throw new CreateError(
      'STAVILY_ERR_CREATE_USAGE',
      `npm pack ${source.path} failed: ${(error as Error).message}`,
      {
        cause: error,
      },
    )
  }
  const tarball = (await readdir(vendor)).find((f) => f.endsWith('.tgz') && !before.has(f))
  if (!tarball) throw new CreateError('STAVILY_ERR_CREATE_USAGE', `npm pack ${source.path} wrote no tarball`)
  return `file:${VENDOR_DIR}/${tarball}`
}
