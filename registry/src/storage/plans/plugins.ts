import type { Statement } from '../sql-client.ts'

// SQL for the plugins table. `schema` is checked once at registry creation (identifiers.ts).

export interface PluginRow extends Record<string, unknown> {
  name: string
  kind: string
  description: string
  repository: string
  latest: string | null
  createdAt: Date | string
  updatedAt: Date | string
}

const columns = `name, kind, description, repository, latest,
  created_at AS "createdAt", updated_at AS "updatedAt"`

export const upsertPlugin = (
  s: string,
  p: { name: string; kind: string; description: string; repository: string },
): Statement => ({
  text: `INSERT INTO ${s}.plugins (name, kind, description, repository) VALUES ($1, $2, $3, $4)
    ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, description = EXCLUDED.description, updated_at = now()`,
  values: [p.name, p.kind, p.description, p.repository],
})

export const setLatest = (s: string, name: string, latest: string | null): Statement => ({
  text: `UPDATE ${s}.plugins SET latest = $2, updated_at = now() WHERE name = $1`,
  values: [name, latest],
})

export const getPlugin = (s: string, name: string): Statement => ({
  text: `SELECT ${columns} FROM ${s}.plugins WHERE name = $1`,
  values: [name],
})

/** Plugins whose name or description contains `query` (case-insensitive), by name. */
export const searchPlugins = (
  s: string,
  { query, limit, offset }: { query: string; limit: number; offset: number },
): Statement => ({
  text: `SELECT ${columns} FROM ${s}.plugins
    WHERE $1 = '' OR name ILIKE $2 ESCAPE '\\' OR description ILIKE $2 ESCAPE '\\'
    ORDER BY name LIMIT $3 OFFSET $4`,
  values: [query, `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, limit, offset],
})
