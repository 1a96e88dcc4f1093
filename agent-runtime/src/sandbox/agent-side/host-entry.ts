// Where the sandbox host child's entry file is and how to start it: from source under
// tsx (tests, `tsx` runs), from dist with plain node.
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

export interface HostEntry {
  file: string
  execArgv: string[]
  env: NodeJS.ProcessEnv
}

export function hostEntry(): HostEntry {
  const here = import.meta.url
  // isolated-vm needs --no-node-snapshot on Node 20+ in the process that loads it. A 1 MB
  // young generation, as the agent's own #! line sets (the host does not inherit it): the
  // host allocates little per call, and V8's default lets an idle host keep about 4 MB
  // more resident with 5 plugins (npm run bench -- agent).
  const execArgv = ['--no-node-snapshot', '--max-semi-space-size=1']
  if (here.endsWith('.ts')) {
    const require = createRequire(here)
    return {
      file: fileURLToPath(new URL('../host/host-main.ts', here)),
      execArgv: [...execArgv, '--import', pathToFileURL(require.resolve('tsx')).href],
      // Resolve @stavily/sdk to its sources too, as the test process does.
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../../tsconfig.source.json', here)),
      },
    }
  }
  return { file: fileURLToPath(new URL('./sandbox-host.js', here)), execArgv, env: process.env }
}
