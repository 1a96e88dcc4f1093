#!/usr/bin/env -S node --max-semi-space-size=1
// The `stavily-agent` bin (package.json "bin"). npm links a package's bins when it installs
// it and skips a bin whose file is missing then; in this repository `npm install` runs
// before `npm run build`, so a bin pointing at dist/agent.js left
// `node_modules/.bin/stavily-agent` unlinked in a fresh clone. This committed launcher
// exists from the clone on and loads the built agent; its #! line carries the same Node
// flag as dist/agent.js's (a small young generation: the agent's idle memory).
import { existsSync } from 'node:fs'

const agent = new URL('../dist/agent.js', import.meta.url)
if (!existsSync(agent)) {
  process.stderr.write(
    'stavily-agent: the agent is not built yet: run `npm run build` in the repository (or `npm run build -w @stavily/agent`), then try again.\n',
  )
  process.exit(1)
}
await import(agent.href)
