// Baseline child for the sandbox benchmark: answers every IPC message with itself, so the
// bare process hop is measured in the same run as the sandbox's invoke.
process.on('message', (m) => process.send(m))
process.on('disconnect', () => process.exit(0))
