#!/usr/bin/env node
// The `stavily` bin (package.json "bin"). npm links a package's bins when it installs it
// and skips a bin whose file is missing then; in this repository `npm install` runs before
// `npm run build`, so pointing the bin at dist/cli.js left `node_modules/.bin/stavily`
// unlinked. This committed launcher exists from the clone on and loads the built CLI.
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write(
    'stavily: the CLI is not built yet: run `npm run build` in the repository (or `npm run build -w @stavily/core`), then try again.\n',
  )
  process.exit(1)
}
await import(cli.href)
