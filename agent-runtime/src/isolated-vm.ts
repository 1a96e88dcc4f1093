// Loads isolated-vm. No single isolated-vm release builds on every Node.js line we support
// (5.x builds on Node 20 and 22, 6.x needs Node 22+ and ships binaries for 22 and 24), so
// both are optional dependencies under npm aliases and this module picks the newest that
// loads here. Types come from one place: `isolated-vm` is a tsconfig `paths` mapping to
// the declarations of whichever alias is installed (6.x kept 5.x's API).
import { createRequire } from 'node:module'
import type IsolatedVm from 'isolated-vm'
import { SandboxErrorCodes, sandboxError } from './errors.ts'

export type Ivm = typeof IsolatedVm
export type { IsolatedVm }

/** The aliases tried, newest first, with the Node.js lines each works on. */
export const ISOLATED_VM_CANDIDATES: readonly { name: string; nodes: string }[] = [
  { name: 'isolated-vm-6', nodes: 'Node.js 22 and 24 (prebuilt binaries)' },
  { name: 'isolated-vm-5', nodes: 'Node.js 20 and 22 (compiled at install)' },
]

let cached: { ivm: Ivm; name: string } | undefined

/**
 * Returns the isolated-vm module, loading it on first use.
 * @throws SandboxError STAVILY_ERR_ISOLATED_VM_UNAVAILABLE naming every version tried and why it failed.
 */
export function loadIsolatedVm(candidates: readonly string[] = ISOLATED_VM_CANDIDATES.map((c) => c.name)): {
  ivm: Ivm
  name: string
} {
  if (cached && candidates.includes(cached.name)) return cached
  const require = createRequire(import.meta.url)
  const failures: string[] = []
  for (const name of candidates) {
    try {
      const ivm = require(name) as Ivm
      // A half-built package can resolve without its native part; touch the binding.
      if (typeof ivm.Isolate !== 'function') throw new TypeError('module has no Isolate class')
      cached = { ivm, name }
      return cached
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
      failures.push(`${name}: ${reason}`)
    }
  }
  const snapshotHint = process.execArgv.includes('--no-node-snapshot')
    ? ''
    : ' The process that loads it must run with --no-node-snapshot on Node.js 20+.'
  throw sandboxError(
    SandboxErrorCodes.ISOLATED_VM_UNAVAILABLE,
    `no isolated-vm build loads on Node.js ${process.version}; tried ${failures.join('; ')}. ` +
      'Install with optional dependencies enabled (npm ci without --omit=optional): on Node.js 20 ' +
      'isolated-vm 5.x is compiled at install (needs python3, make and a C++ compiler); on Node.js 22 ' +
      `and 24 isolated-vm 6.x installs a prebuilt binary.${snapshotHint}`,
    { data: { tried: failures, node: process.version } },
  )
}
