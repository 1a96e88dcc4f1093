// Every statement of the secrets store, as {text, values}.

export interface Statement {
  text: string
  values: unknown[]
}

export function upsertSecret(
  org: string,
  name: string,
  keyId: string,
  nonce: Buffer,
  ciphertext: Buffer,
): Statement {
  return {
    text: `INSERT INTO secrets (org_id, name, key_id, nonce, ciphertext) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (org_id, name) DO UPDATE
           SET key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, updated_at = now()
           RETURNING (xmax = 0) AS created`,
    values: [org, name, keyId, nonce, ciphertext],
  }
}

/** Names and metadata only: the API never returns values. */
export function listSecretNames(org: string): Statement {
  return {
    text: `SELECT name, key_id AS "keyId", created_at AS "createdAt", updated_at AS "updatedAt"
           FROM secrets WHERE org_id = $1 ORDER BY name`,
    values: [org],
  }
}

export function deleteSecret(org: string, name: string): Statement {
  return { text: 'DELETE FROM secrets WHERE org_id = $1 AND name = $2 RETURNING name', values: [org, name] }
}

export function selectSealed(org: string, names: readonly string[]): Statement {
  return {
    text: 'SELECT name, key_id AS "keyId", nonce, ciphertext FROM secrets WHERE org_id = $1 AND name = ANY($2::text[])',
    values: [org, names],
  }
}

/** A batch of secrets not under the current key, locked; SKIP LOCKED lets two rotations share the work. */
export function selectStale(currentKeyId: string, limit: number): Statement {
  return {
    text: `SELECT org_id::text AS org, name, key_id AS "keyId", nonce, ciphertext FROM secrets
           WHERE key_id <> $1 ORDER BY org_id, name LIMIT $2 FOR UPDATE SKIP LOCKED`,
    values: [currentKeyId, limit],
  }
}

/** Re-encryption keeps updated_at: the value did not change. */
export function reseal(
  org: string,
  name: string,
  keyId: string,
  nonce: Buffer,
  ciphertext: Buffer,
): Statement {
  return {
    text: 'UPDATE secrets SET key_id = $3, nonce = $4, ciphertext = $5 WHERE org_id = $1 AND name = $2',
    values: [org, name, keyId, nonce, ciphertext],
  }
}
