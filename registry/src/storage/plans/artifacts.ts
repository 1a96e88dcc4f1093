import type { Statement } from '../sql-client.ts'

// Artifacts are content-addressed by their sha256 digest: the same bundle is stored once.

export const insertArtifact = (s: string, digest: string, body: Uint8Array): Statement => ({
  text: `INSERT INTO ${s}.artifacts (digest, size, body) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING`,
  values: [digest, body.byteLength, body],
})

export const getArtifact = (s: string, digest: string): Statement => ({
  text: `SELECT body, size FROM ${s}.artifacts WHERE digest = $1`,
  values: [digest],
})
