// Entry point of the sandbox host child process (forked by the supervisor with IPC,
// `serialization: 'json'` and --no-node-snapshot).
import { toSerialized } from '../../errors.ts'
import { loadIsolatedVm } from '../../isolated-vm.ts'
import type { FromHost, ToHost } from '../protocol.ts'
import { SandboxHost } from './host.ts'

if (typeof process.send !== 'function') {
  process.stderr.write(
    'the Stavily sandbox host runs only as a child of the agent (it needs an IPC channel)\n',
  )
  process.exit(2)
}

const send = (batch: FromHost[]) => {
  if (process.connected) process.send!(batch)
}

let ivm: ReturnType<typeof loadIsolatedVm>
try {
  ivm = loadIsolatedVm()
} catch (err) {
  // The supervisor reports this as the reason the sandbox cannot start.
  process.send({ t: 'fatal', error: toSerialized(err) })
  process.exit(3)
}

const host = new SandboxHost(ivm.ivm, send)
process.on('message', (batch: ToHost[]) => host.handle(batch))
// The agent is gone: nothing left to serve.
process.on('disconnect', () => process.exit(0))
send([{ t: 'ready', pid: process.pid, ivm: ivm.name }])
