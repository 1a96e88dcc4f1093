// The one serialisation entries are hashed over. Keys are sorted at every level, because
// jsonb stores objects with its own key order; numbers and strings use JSON.stringify, which
// is what the driver's JSON.parse of a jsonb value round-trips exactly.

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null'
  const text = JSON.stringify(value)
  // Functions, symbols and undefined have no JSON form; entries are built from JSON data only.
  return text === undefined ? 'null' : text
}
