// Whether this runtime can run a plugin built against SDK API `version`.
import { SUPPORTED_SDK_API } from '../defaults.ts'

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/

export function sdkApiSupported(version: string): boolean {
  const v = SEMVER.exec(version)
  const supported = SEMVER.exec(SUPPORTED_SDK_API.replace(/^\^/, ''))
  if (!v || !supported) return false
  // Same major, and not newer than what we implement: a 1.3 plugin may use 1.3 features.
  if (v[1] !== supported[1]) return false
  return Number(v[2]) <= Number(supported[2])
}
