// Runs before `npm test` and `npm run dev`: refuses an unsupported Node.js, and installs
// the workspace from the lockfile when it has not been installed yet, so that both work
// as the first commands after cloning.
import { execSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'

const [major, minor] = process.versions.node.split('.').map(Number)
// The versions CI tests (see .ci/run); isolated-vm has no build for others.
const supported = (major === 20 && minor >= 19) || major === 22 || major === 24
if (!supported) {
  console.error(
    `stavily: Node.js ${process.versions.node} is not supported. Use Node.js 20 (20.19 or newer), 22 or 24 — most users run 22 or 24.`,
  )
  process.exit(1)
}

const marker = 'node_modules/.package-lock.json'
const stale = !existsSync(marker) || statSync('package-lock.json').mtimeMs > statSync(marker).mtimeMs + 1000
if (stale) {
  console.log(
    'stavily: installing dependencies (npm ci); on Node 20 the sandbox compiles isolated-vm, which takes a minute or two…',
  )
  execSync('npm ci --no-audit --no-fund', { stdio: 'inherit' })
}
