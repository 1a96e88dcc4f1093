import { createHash } from 'node:crypto'
import {
  Metadata,
  MetadataKind,
  MetaFile,
  type Root,
  type Snapshot,
  type Targets,
  type Timestamp,
} from '@tufjs/models'
import type { RoleKeys } from './roles.ts'

// Small helpers around @tufjs/models: serialise, parse, sign, and the expiry format TUF uses.

export type AnyMetadata = Metadata<Root> | Metadata<Targets> | Metadata<Snapshot> | Metadata<Timestamp>

/** The bytes served for a metadata file (compact JSON; signatures cover the canonical form). */
export function serialize(md: AnyMetadata): string {
  return JSON.stringify(md.toJSON())
}

export function parseRoot(body: string): Metadata<Root> {
  return Metadata.fromJSON(MetadataKind.Root, JSON.parse(body))
}
export function parseTargets(body: string): Metadata<Targets> {
  return Metadata.fromJSON(MetadataKind.Targets, JSON.parse(body))
}
export function parseSnapshot(body: string): Metadata<Snapshot> {
  return Metadata.fromJSON(MetadataKind.Snapshot, JSON.parse(body))
}

/** Signs with every configured key of the role (at least its threshold, checked at load). */
export function signWith(md: AnyMetadata, role: RoleKeys): void {
  for (const key of role.keys) md.sign((data) => key.sign(data), true)
}

/** TUF expiry timestamps are UTC without fractional seconds. */
export function expiresIn(now: Date, seconds: number): string {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 + seconds * 1000)
    .toISOString()
    .replace('.000Z', 'Z')
}

/** Snapshot/timestamp entries pin version, length and hash, so a swapped file is detected. */
export function metaFileFor(version: number, body: string): MetaFile {
  const bytes = Buffer.from(body, 'utf8')
  return new MetaFile({
    version,
    length: bytes.length,
    hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
  })
}
