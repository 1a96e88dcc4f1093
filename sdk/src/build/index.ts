// @stavily/sdk/build: the one plugin build, run by a plugin's `npm run build` and by the
// registry's publish (Node only; needs esbuild, a peer dependency).
export { type BuiltPlugin, buildPlugin, PluginBuildError } from './build-plugin.ts'
export {
  type BundlePluginSourceOptions,
  bundlePluginSource,
  type PluginSourceBundle,
} from './bundle-plugin.ts'
export { canonicalizePackagePaths } from './canonical-paths.ts'
