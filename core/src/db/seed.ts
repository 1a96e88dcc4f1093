import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync, gzipSync } from 'node:zlib'
import { DEFAULTS } from '../defaults.ts'
import { StavilyError } from '../errors.ts'
import { startBoss } from '../queue/boss.ts'
import { DEAD_LETTER_QUEUE } from '../queue/queue-names.ts'
import { migrate } from './migrate.ts'
import { openPglite } from './pglite-client.ts'

// The embedded default's first start, made fast: PGlite's initdb, Stavily's migrations and
// pg-boss's schema are done once at build time (`npm run build -w core` writes
// dist/seed.tar.gz), and a new data folder starts as a copy of that. Whatever the seed
// lacks (a newer migration) is applied at start as usual.

const SEED_NAME = 'seed.tar.gz'

// Bundled (dist/main.js, dist/index.js) the seed sits beside the module; from source
// (src/db/seed.ts) it is in ../../dist.
function seedCandidates(): string[] {
  return [
    new URL(`./${SEED_NAME}`, import.meta.url),
    new URL(`../../dist/${SEED_NAME}`, import.meta.url),
  ].map((u) => fileURLToPath(u))
}

/** The seed file for a data folder about to be created, or undefined (folder exists, other schema, no seed built). */
export function seedFor(dataDir: string | undefined, schema: string): string | undefined {
  if (dataDir === undefined || schema !== DEFAULTS.schema) return undefined
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) return undefined
  return seedCandidates().find((f) => existsSync(f))
}

/**
 * Unpacks the seed into a new data folder. Node writes the files itself: PGlite's own
 * `loadDataDir` unpacks through its WebAssembly file system and took about half a second
 * more (and ~90 MB more memory) on a first start. The files go to a sibling folder that is
 * renamed into place, so an interrupted first start leaves no half folder that a later
 * start would take for a database.
 */
export function plantSeed(seedFile: string, dataDir: string): void {
  const staging = `${dataDir}.seeding-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { recursive: true, mode: 0o700 })
  try {
    untar(gunzipSync(readFileSync(seedFile)), staging, seedFile)
    // An empty folder left by the operator (or a mount point's parent) is replaced.
    if (existsSync(dataDir)) rmSync(dataDir, { recursive: true })
    renameSync(staging, dataDir)
  } catch (err) {
    rmSync(staging, { recursive: true, force: true })
    throw err
  }
}

// PGlite's dumpDataDir writes ustar: 512-byte headers, files and folders only, names
// relative to the data folder (with a leading slash).
function untar(tar: Buffer, into: string, source: string): void {
  const text = (at: number, len: number) => {
    const end = tar.indexOf(0, at)
    return tar.toString('utf8', at, end === -1 || end > at + len ? at + len : end)
  }
  const bad = (why: string) =>
    new StavilyError(
      'STAVILY_ERR_CONFIG',
      `${source}: not a data-folder seed (${why}); rebuild it with npm run build -w @stavily/core`,
    )
  for (let at = 0; at + 512 <= tar.length; ) {
    if (tar[at] === 0) break // the two zero blocks that end the archive
    const name = text(at, 100)
    const prefix = text(at + 345, 155)
    const size = Number.parseInt(text(at + 124, 12).trim() || '0', 8)
    const mode = Number.parseInt(text(at + 100, 8).trim() || '0', 8)
    const type = String.fromCharCode(tar[at + 156] ?? 0)
    const rel = normalize((prefix ? `${prefix}/${name}` : name).replace(/^\/+/, ''))
    if (rel.startsWith(`..${sep}`) || rel === '..') throw bad(`entry ${name} leaves the folder`)
    const path = join(into, rel)
    if (type === '5') mkdirSync(path, { recursive: true, mode: mode & 0o700 || 0o700 })
    else if (type === '0' || type === '\0') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
      writeFileSync(path, tar.subarray(at + 512, at + 512 + size), { mode: mode & 0o700 || 0o600 })
    } else throw bad(`entry ${name} has type ${JSON.stringify(type)}`)
    at += 512 + Math.ceil(size / 512) * 512
  }
}

/**
 * Builds the seed: a gzipped PGlite data folder with the default schema migrated. The
 * folder is built on disk and closed before it is packed, so it is marked cleanly shut
 * down: a folder unpacked from it opens without crash recovery (PGlite's own dump of a
 * running database would need it, ~0.3 s and an end-of-recovery checkpoint on every first
 * start).
 */
export async function buildSeed(outFile: string): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'stavily-seed-'))
  try {
    const dataDir = join(work, 'data')
    const db = await openPglite({ dataDir, schema: DEFAULTS.schema })
    await migrate(db)
    const boss = await startBoss(db, { supervise: false, schedule: true })
    await boss.createQueue(DEAD_LETTER_QUEUE, { name: DEAD_LETTER_QUEUE })
    await boss.stop({ graceful: false, wait: true })
    await db.close()
    const bytes = gzipSync(tar(dataDir), { level: 9 })
    writeFileSync(outFile, bytes)
    return bytes.length
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

// ustar of a folder's files and subfolders, names relative to it; the server's pid file is
// left out (no server runs in a seed).
function tar(dir: string): Buffer {
  const blocks: Buffer[] = []
  const header = (name: string, mode: number, size: number, type: '0' | '5') => {
    if (Buffer.byteLength(name) > 99)
      throw new StavilyError('STAVILY_ERR_CONFIG', `seed: ${name}: name longer than 99 bytes`)
    const h = Buffer.alloc(512)
    h.write(name, 0)
    h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100)
    h.write('0000000\0', 108)
    h.write('0000000\0', 116)
    h.write(`${size.toString(8).padStart(11, '0')}\0`, 124)
    h.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
    )
    h.write('        ', 148)
    h.write(type, 156)
    h.write('ustar\u000000', 257)
    let sum = 0
    for (const byte of h) sum += byte
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
    return h
  }
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const name = `${rel}/${entry.name}`
      if (entry.isDirectory()) {
        blocks.push(header(name, 0o700, 0, '5'))
        walk(name)
      } else if (entry.isFile() && name !== '/postmaster.pid') {
        const body = readFileSync(join(dir, name))
        blocks.push(
          header(name, 0o600, body.length, '0'),
          body,
          Buffer.alloc((512 - (body.length % 512)) % 512),
        )
      }
    }
  }
  walk('')
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}
