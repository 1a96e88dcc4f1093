import { rm, stat } from 'node:fs/promises'
import { basename, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CliArgs } from './args.js'
import type { Colors } from './colors.js'
import { copyTemplate } from './copy-template.js'
import { customizeProject } from './customize.js'
import { normalizeDescription } from './description.js'
import { CreateError } from './errors.js'
import { resolveSdkSource, vendorSdk } from './local-sdk.js'
import { nextSteps, packageManagerFrom } from './next-steps.js'
import { defaultDescription, type PluginKind } from './plugin-kind.js'
import type { Prompter } from './prompter.js'
import { askDescription, askKind, askName } from './questions.js'
import { assertTargetUsable } from './target-dir.js'
import { type PluginName, validatePluginName } from './validate-name.js'

export interface CreateIo {
  cwd: string
  env: NodeJS.ProcessEnv
  /** Present only when stdin is a terminal; without it, every answer must come from the flags. */
  prompter?: Prompter
  log(message: string): void
  warn(message: string): void
  colors: Colors
}

export interface CreatedProject {
  targetDir: string
  packageName: string
  kind: PluginKind
  description: string
  files: string[]
}

/** `src/` and `dist/` both sit one level below the package root, beside the template folders. */
function templateDir(kind: PluginKind): string {
  return fileURLToPath(new URL(`../template-${kind}`, import.meta.url))
}

function notInteractive(missing: string): CreateError {
  return new CreateError(
    'STAVILY_ERR_CREATE_NOT_INTERACTIVE',
    `${missing} not given and stdin is not a terminal, so there is no one to ask. Pass it on the command line, e.g. npm create stavily-plugin@latest my-plugin -- --kind action --yes`,
  )
}

/**
 * Resolves the name, checks the target, then asks only for what the flags left open, so a
 * refused target costs the user no questions. Nothing is written before every answer is in.
 */
export async function createProject(args: CliArgs, io: CreateIo): Promise<CreatedProject> {
  const ask = args.yes ? undefined : io.prompter
  // Flags are checked before any question, so a typo never costs the user their answers.
  const flagDescription =
    args.description === undefined ? undefined : normalizeDescription(args.description, '--description')

  let name: PluginName
  let targetDir: string
  if (args.name === '.') {
    // Scaffold into the current folder; its name becomes the package name.
    targetDir = io.cwd
    name = { ...currentFolderName(io.cwd), folderName: '.' }
  } else if (args.name !== undefined) {
    name = validatePluginName(args.name)
    targetDir = resolve(io.cwd, name.folderName)
  } else if (ask) {
    name = await askName(ask, io.warn)
    targetDir = resolve(io.cwd, name.folderName)
  } else {
    throw new CreateError(
      'STAVILY_ERR_CREATE_USAGE',
      'missing the project name, e.g. npm create stavily-plugin@latest my-plugin -- --kind action --yes',
    )
  }
  await assertTargetUsable(targetDir, io.cwd)
  const sdkSource = resolveSdkSource(args.sdk, io.cwd)

  let kind = args.kind
  if (kind === undefined) {
    if (args.yes) kind = 'action'
    else if (ask) kind = await askKind(ask, io.warn)
    else throw notInteractive('--kind')
  }

  let description: string
  if (flagDescription !== undefined) description = flagDescription
  else if (ask) description = await askDescription(ask, defaultDescription(kind), io.warn)
  else description = defaultDescription(kind)

  const existed = await targetExists(targetDir)
  let files: string[]
  let sdkSpec: string | undefined
  try {
    files = await copyTemplate(templateDir(kind), targetDir)
    sdkSpec = await vendorSdk(targetDir, sdkSource)
    await customizeProject(targetDir, { packageName: name.packageName, description, kind, sdkSpec })
  } catch (error) {
    // Leave no half-made project behind: the user would have to clean up before retrying.
    if (!existed) await rm(targetDir, { recursive: true, force: true })
    throw error
  }

  io.log(
    nextSteps({
      folder: relative(io.cwd, targetDir) || '.',
      packageName: name.packageName,
      kind,
      packageManager: packageManagerFrom(io.env.npm_config_user_agent),
      colors: io.colors,
      sdkSpec,
    }),
  )
  return { targetDir, packageName: name.packageName, kind, description, files }
}

/** With ".", the folder's own name becomes the package name; say so when it is not a valid one. */
function currentFolderName(cwd: string): PluginName {
  try {
    return validatePluginName(basename(cwd))
  } catch (error) {
    if (!(error instanceof CreateError)) throw error
    throw new CreateError(
      error.code,
      `the current folder's name is used as the package name with ".", but ${error.message} Rename the folder, or pass a name instead of ".".`,
    )
  }
}

async function targetExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}
