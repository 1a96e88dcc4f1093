// Where a plugin version lives among TUF targets, shared by the registry and the client.
// `name/version.js` keeps scoped names readable; with consistent snapshots the download URL
// prefixes the file name with the sha256 digest (`name/<sha256>.version.js`).

export function targetPath(name: string, version: string): string {
  return `${name}/${version}.js`
}

export function parseTargetPath(path: string): { name: string; version: string } | undefined {
  const m = /^(.+)\/([^/]+)\.js$/.exec(path)
  return m ? { name: m[1]!, version: m[2]! } : undefined
}

/** Splits a served target file path, with or without the digest prefix. */
export function parseTargetDownload(
  path: string,
): { name: string; version: string; sha256?: string } | undefined {
  const m = /^(.+)\/(?:([0-9a-f]{64})\.)?([^/]+)\.js$/.exec(path)
  if (!m) return undefined
  return { name: m[1]!, version: m[3]!, ...(m[2] ? { sha256: m[2] } : {}) }
}
