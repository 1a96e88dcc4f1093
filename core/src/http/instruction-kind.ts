import { invalid } from '../errors.ts'

// Sensor agents never poll for instructions (docs/agent-protocol.md): they run the sensors
// their pool's workflows assign them and report events. A sensor instruction would wait
// forever, so it is refused; an action is what runs once, now, on a pool.
export function refuseSensorWork(body: { kind: string; operation: string }): void {
  if (body.kind === 'sensor')
    throw invalid(
      'body.kind',
      '"action": sensor agents do not take instructions (they run the sensors their workflows assign); to run a check once, enqueue an action plugin on an action pool',
      body.kind,
    )
  if (body.operation !== 'run' && body.operation !== 'send')
    throw invalid(
      'body.operation',
      '"run" (an action) or "send" (an output) for an action instruction',
      body.operation,
    )
}
