// Installs the workspace from the lockfile when it has not been installed yet, so that
// `npm test` and `npm run dev` work as the first commands after cloning.
import { execSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'

const marker = 'node_modules/.package-lock.json'
const stale = !existsSync(marker) || statSync('package-lock.json').mtimeMs > statSync(marker).mtimeMs + 1000
if (stale) {
  console.log('stavily: installing dependencies (npm ci); the sandbox compiles isolated-vm, which takes a minute or two…')
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' })
}
