import { fileURLToPath } from 'node:url'

// Tests build plugins against the workspace's SDK sources, as a plugin's own node_modules
// would provide them after `npm ci` in production.
export const PROVIDED_SDK: Record<string, string> = {
  '@stavily/sdk': fileURLToPath(new URL('../../../sdk/src/index.ts', import.meta.url)),
}
