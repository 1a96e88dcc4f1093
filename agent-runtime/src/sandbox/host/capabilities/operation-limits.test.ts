import { describe, expect, it } from 'vitest'
import { hostCall, hostPlugin } from '../../../../test/helpers/host-plugin.ts'
import { SandboxErrorCodes as C } from '../../../errors.ts'
import { COUNTED_OPERATIONS, withinOperationLimits } from './operation-limits.ts'

// A call may hold limits.operationsPerCall operations at once and a plugin (all its calls)
// limits.operationsPerPlugin; one more is refused at once, and each slot is given back when
// its operation settles, however it settles.

/** A promise settled from outside. */
function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

const limits = { operationsPerCall: 2, operationsPerPlugin: 3 }

describe('COUNTED_OPERATIONS', () => {
  it('are the capabilities that hold a process, socket, descriptor or queued state value', () => {
    expect([...COUNTED_OPERATIONS].sort()).toEqual(
      [
        'exec',
        'fetch',
        'fs.list',
        'fs.readText',
        'fs.watch',
        'fs.writeText',
        'smtp.send',
        'sql.listen',
        'sql.query',
        'state.delete',
        'state.get',
        'state.set',
      ].sort(),
    )
  })
})

describe('withinOperationLimits', () => {
  it('counts an operation in flight on the call and the plugin until it resolves', async () => {
    const plugin = hostPlugin({ limits })
    const call = hostCall()
    const op = deferred<string>()
    const result = withinOperationLimits(plugin, call, 'exec', () => op.promise)
    expect(result).toBe(op.promise)
    expect([call.operationsInFlight, plugin.operationsInFlight]).toEqual([1, 1])
    op.resolve('done')
    expect(await result).toBe('done')
    expect([call.operationsInFlight, plugin.operationsInFlight]).toEqual([0, 0])
  })

  it('gives the slot back when the operation rejects, and passes the rejection on', async () => {
    const plugin = hostPlugin({ limits })
    const call = hostCall()
    const op = deferred<string>()
    const result = withinOperationLimits(plugin, call, 'fetch', () => op.promise)
    op.reject(new Error('refused'))
    await expect(result).rejects.toThrow('refused')
    expect([call.operationsInFlight, plugin.operationsInFlight]).toEqual([0, 0])
  })

  it('gives the slot back at once for a value returned synchronously', () => {
    const plugin = hostPlugin({ limits })
    const call = hostCall()
    expect(withinOperationLimits(plugin, call, 'state.get', () => 42)).toBe(42)
    expect([call.operationsInFlight, plugin.operationsInFlight]).toEqual([0, 0])
  })

  it('gives the slot back and rethrows what the operation throws synchronously', () => {
    const plugin = hostPlugin({ limits })
    const call = hostCall()
    const thrown = new Error('bad argument')
    expect(() =>
      withinOperationLimits(plugin, call, 'exec', () => {
        throw thrown
      }),
    ).toThrow(thrown)
    expect([call.operationsInFlight, plugin.operationsInFlight]).toEqual([0, 0])
  })

  it('lets a call hold exactly operationsPerCall, and refuses one more without starting it', async () => {
    const plugin = hostPlugin({ name: '@acme/ops', limits })
    const call = hostCall()
    const ops = [deferred<void>(), deferred<void>()]
    for (const op of ops) withinOperationLimits(plugin, call, 'exec', () => op.promise)
    expect(call.operationsInFlight).toBe(2)
    let started = false
    expect(() =>
      withinOperationLimits(plugin, call, 'fs.readText', () => {
        started = true
      }),
    ).toThrow(
      expect.objectContaining({
        code: C.TOO_MANY_OPERATIONS,
        retryable: false,
        message:
          'fs.readText: this call already has 2 exec/fetch/fs/state operations in flight; the limit is 2 (limits.operationsPerCall); wait for some to finish',
      }),
    )
    expect(started).toBe(false)
    expect([call.operationsInFlight, plugin.operationsInFlight]).toEqual([2, 2])
    // One settles: the next fits again.
    ops[0]!.resolve()
    await ops[0]!.promise
    await Promise.resolve()
    expect(call.operationsInFlight).toBe(1)
    expect(withinOperationLimits(plugin, call, 'exec', () => 'ran')).toBe('ran')
    ops[1]!.resolve()
  })

  it('lets a plugin hold exactly operationsPerPlugin across its calls, and refuses one more', () => {
    const plugin = hostPlugin({ name: '@acme/ops', limits })
    const [a, b, c] = [hostCall(), hostCall(), hostCall()]
    const pending = new Promise<void>(() => {})
    withinOperationLimits(plugin, a, 'exec', () => pending)
    withinOperationLimits(plugin, a, 'exec', () => pending)
    withinOperationLimits(plugin, b, 'exec', () => pending)
    expect(plugin.operationsInFlight).toBe(3)
    expect(() => withinOperationLimits(plugin, c, 'state.set', () => pending)).toThrow(
      expect.objectContaining({
        code: C.TOO_MANY_OPERATIONS,
        message:
          'state.set: @acme/ops already has 3 across its calls exec/fetch/fs/state operations in flight; the limit is 3 (limits.operationsPerPlugin); wait for some to finish',
      }),
    )
    expect([c.operationsInFlight, plugin.operationsInFlight]).toEqual([0, 3])
  })

  it('counts the call limit before the plugin limit', () => {
    const plugin = hostPlugin({ limits: { operationsPerCall: 1, operationsPerPlugin: 1 } })
    const call = hostCall()
    withinOperationLimits(plugin, call, 'exec', () => new Promise<void>(() => {}))
    expect(() => withinOperationLimits(plugin, call, 'exec', () => undefined)).toThrow(
      /limits\.operationsPerCall/,
    )
  })
})
