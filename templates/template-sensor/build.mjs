// Builds dist/plugin.js with the Stavily registry's own build (@stavily/sdk/build): the
// manifest checked as the registry checks it, the entry bundled into ONE script with the
// same esbuild options and names, then loaded in an empty JavaScript global (no Node, no
// browser APIs, as in the agent's sandbox). So a plugin the registry would reject or the
// sandbox could not load fails here first, and the sha256 printed is the digest the
// registry signs for the same commit (with the same package versions installed).
import { buildPlugin, PluginBuildError } from '@stavily/sdk/build'

try {
  const built = await buildPlugin(new URL('.', import.meta.url))
  console.log(
    `built ${built.file}: ${built.kind} plugin ${built.name}@${built.version}, ${(built.bytes / 1024).toFixed(1)} kB, sha256 ${built.sha256}`,
  )
} catch (error) {
  if (!(error instanceof PluginBuildError)) throw error
  console.error(error.message)
  process.exit(1)
}
