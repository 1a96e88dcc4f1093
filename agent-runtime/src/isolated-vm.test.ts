import { describe, expect, it } from 'vitest'
import { SandboxErrorCodes } from './errors.ts'
import { ISOLATED_VM_CANDIDATES, loadIsolatedVm } from './isolated-vm.ts'

describe('loadIsolatedVm', () => {
  it('loads the newest isolated-vm build that works on this Node.js', () => {
    const { ivm, name } = loadIsolatedVm()
    expect(ISOLATED_VM_CANDIDATES.map((c) => c.name)).toContain(name)
    const isolate = new ivm.Isolate({ memoryLimit: 8 })
    try {
      expect(isolate.createContextSync().evalSync('6 * 7')).toBe(42)
    } finally {
      isolate.dispose()
    }
  })

  it('names every version it tried, why each failed, and what to do, when none loads', () => {
    let error: unknown
    try {
      loadIsolatedVm(['isolated-vm-does-not-exist', 'isolated-vm-neither'])
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: SandboxErrorCodes.ISOLATED_VM_UNAVAILABLE })
    const message = (error as Error).message
    expect(message).toContain('isolated-vm-does-not-exist: ')
    expect(message).toContain('isolated-vm-neither: ')
    expect(message).toContain(process.version)
    expect(message).toMatch(/Node\.js 20 .*5\.x.*Node\.js 22\s+and 24 .*6\.x/s)
  })
})
