// Counts and times every plugin call (instructions and sensor checks alike) at the one
// place both go through, the sandbox's invoke, without the sandbox knowing of metrics.
import type { Sandbox } from '../sandbox/sandbox.ts'
import type { AgentMetrics } from './metrics.ts'

export function instrumentSandbox(sandbox: Sandbox, metrics: AgentMetrics): Sandbox {
  // The sandbox's methods are closures (no `this`): a derived object can replace one.
  const wrapped: Sandbox = Object.create(sandbox)
  wrapped.invoke = async (name, options) => {
    const started = performance.now()
    try {
      const result = await sandbox.invoke(name, options)
      metrics.observeCall(name, 'ok', (performance.now() - started) / 1000)
      return result
    } catch (err) {
      const code = (err as { code?: unknown }).code
      metrics.observeCall(
        name,
        typeof code === 'string' ? code : 'error',
        (performance.now() - started) / 1000,
      )
      throw err
    }
  }
  return wrapped
}
