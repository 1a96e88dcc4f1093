// Build step (tsup onSuccess): writes dist/seed.tar.gz, the embedded default's starting data folder.
import { fileURLToPath } from 'node:url'
import { buildSeed } from './db/seed.ts'

const out = fileURLToPath(new URL('./seed.tar.gz', import.meta.url))
const size = await buildSeed(out)
process.stdout.write(`stavily: wrote ${out} (${(size / 1024).toFixed(0)} KiB)\n`)
