import { createHash } from 'node:crypto'
import { realpath } from 'node:fs/promises'
import { resolve } from 'node:path'
import { bundlePluginSource } from '@stavily/sdk/build'
import type { Message } from 'esbuild'
import { DEFAULTS, HOST_ONLY_PACKAGES } from '../defaults.ts'
import { RegistryError } from '../errors.ts'
import { assertInsideCheckout } from '../git/symlinks.ts'
import { importsOutsideCheckout } from './bundle-inputs.ts'
import { type ForbiddenImport, forbiddenImportsMessage, importGuard } from './import-guard.ts'

// Builds a plugin's entry into the one sandbox script with the SDK's build function, the
// one a plugin's own `npm run build` runs (@stavily/sdk/build): same commit, same package
// versions, same bytes, here and on the author's machine. The working directory is the
// checkout root, so path comments read `src/index.ts` (or `plugins/a/src/index.ts`)
// whatever folder the checkout was made in; package files read `package@version/path`.

export interface BundleOptions {
  /** Bare specifiers resolved to files of the registry host instead of the plugin's node_modules. */
  provided?: Readonly<Record<string, string>>
  maxBundleBytes?: number
  hostOnlyPackages?: readonly string[]
}

export interface Bundle {
  bytes: Uint8Array
  /** Hex sha256 of `bytes`. */
  sha256: string
}

export async function bundlePlugin(
  checkoutRoot: string,
  entry: string,
  opts: BundleOptions = {},
): Promise<Bundle> {
  const root = await realpath(checkoutRoot)
  // The entry and every file esbuild took in from the checkout must really live there
  // (a symlink to a host file would put that file in a public bundle).
  await assertInsideCheckout(root, resolve(root, entry))
  const found: ForbiddenImport[] = []
  let output: Uint8Array
  try {
    const result = await bundlePluginSource({
      root,
      entry,
      plugins: [
        importGuard({
          root,
          provided: opts.provided ?? {},
          hostOnly: opts.hostOnlyPackages ?? HOST_ONLY_PACKAGES,
          found,
        }),
      ],
    })
    for (const input of Object.keys(result.metafile.inputs))
      if (!input.startsWith('../') && !input.includes(':'))
        await assertInsideCheckout(root, resolve(root, input))
    const providedFiles = new Set(Object.values(opts.provided ?? {}))
    found.push(...importsOutsideCheckout(result.metafile, root, providedFiles))
    if (found.length > 0) throw forbidden(found)
    output = new TextEncoder().encode(result.code)
  } catch (err) {
    if (err instanceof RegistryError) throw err
    // Forbidden imports first: they are often why the rest failed.
    if (found.length > 0) throw forbidden(found)
    const errors = (err as { errors?: Message[] }).errors ?? []
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_BUILD_FAILED',
      `the plugin did not build:\n${errors.length > 0 ? formatMessages(errors) : (err as Error).message}`,
      { cause: err, data: { errors: errors.slice(0, DEFAULTS.maxBuildErrorsShown).map(formatMessage) } },
    )
  }
  const max = opts.maxBundleBytes ?? DEFAULTS.maxBundleBytes
  if (output.byteLength > max)
    throw new RegistryError(
      'STAVILY_ERR_REGISTRY_BUNDLE_TOO_LARGE',
      `the plugin bundle is ${output.byteLength} bytes, more than the limit of ${max}; ` +
        'drop large dependencies or import only the parts you use',
      { data: { size: output.byteLength, limit: max } },
    )
  return { bytes: output, sha256: createHash('sha256').update(output).digest('hex') }
}

function forbidden(found: ForbiddenImport[]): RegistryError {
  // The SDK's build may run the guard twice (once with its slim schema builders, once with
  // TypeBox): each import is listed once.
  const unique = [
    ...new Map(found.map((f) => [`${f.specifier}\u0000${f.importer}\u0000${f.reason}`, f])).values(),
  ]
  return new RegistryError('STAVILY_ERR_REGISTRY_FORBIDDEN_IMPORT', forbiddenImportsMessage(unique), {
    data: { imports: unique },
  })
}

function formatMessage(m: Message): string {
  const at = m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: ` : ''
  return `${at}${m.text}`
}

function formatMessages(errors: Message[]): string {
  const shown = errors.slice(0, DEFAULTS.maxBuildErrorsShown).map((m) => `  ${formatMessage(m)}`)
  const more = errors.length - shown.length
  return shown.join('\n') + (more > 0 ? `\n  … and ${more} more` : '')
}
