import { copyFile, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { cleanEnv, run } from './run-cli.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SDK_DIR = join(REPO_ROOT, 'sdk')

async function mustRun(command: string, args: string[], options: { cwd: string; timeoutMs: number }) {
  // NO_COLOR: the tests read vitest's and npm's output as plain text.
  const result = await run(command, args, { ...options, env: cleanEnv({ NO_COLOR: '1' }) })
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`,
    )
  }
  return result
}

/**
 * This repository's SDK as the npm registry would serve it: built with its own tsup config
 * and packed with `npm pack`. The build goes to a temporary folder, never to sdk/dist,
 * because other tests may be loading sdk/dist while this runs.
 */
export async function packSdk(workDir: string): Promise<string> {
  const packageDir = join(workDir, 'sdk-package')
  await mkdir(packageDir, { recursive: true })
  await copyFile(join(SDK_DIR, 'package.json'), join(packageDir, 'package.json'))
  await mustRun(join(REPO_ROOT, 'node_modules', '.bin', 'tsup'), ['--out-dir', join(packageDir, 'dist')], {
    cwd: SDK_DIR,
    timeoutMs: 240_000,
  })
  await mustRun('npm', ['pack', '--ignore-scripts', '--pack-destination', workDir], {
    cwd: packageDir,
    timeoutMs: 60_000,
  })
  const tarball = (await readdir(workDir)).find((name) => name.endsWith('.tgz'))
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${workDir}`)
  return join(workDir, tarball)
}

export { mustRun }
