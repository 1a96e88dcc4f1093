import type { Plugin } from 'esbuild'

/**
 * Marks typebox as free of side effects in the process bundles, so an import of it that
 * nothing uses is dropped with it. The SDK's manifest chunk imports typebox/value for the
 * schema checks only the sandbox host runs; without this the agent would carry all of
 * typebox for them. (typebox's package.json does not say `sideEffects: false` itself.)
 */
export const pureTypebox: Plugin = {
  name: 'pure-typebox',
  setup(build) {
    build.onResolve({ filter: /^typebox(\/|$)/ }, async (args) => {
      if (args.pluginData === 'pure-typebox') return undefined
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'pure-typebox',
      })
      return { ...resolved, sideEffects: false }
    })
  },
}
