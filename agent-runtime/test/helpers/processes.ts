import { readdir, readFile } from 'node:fs/promises'
import { basename } from 'node:path'

// Waits for a process to exist, by its argv in /proc: a test that stops a running
// command synchronises on the command having started, not on a sleep that a busy machine
// outlasts (the stop would then land before the command and test another path).

/** Process ids whose command line is `argv` (the program by its base name: hosts run it by full path). */
export async function findProcesses(argv: readonly string[]): Promise<number[]> {
  const want = `${argv.slice(1).join('\0')}\0`
  const found: number[] = []
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue
    // A process may end between the listing and the read.
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')
    const cut = cmdline.indexOf('\0')
    if (basename(cmdline.slice(0, cut)) === argv[0] && cmdline.slice(cut + 1) === want)
      found.push(Number(name))
  }
  return found
}

/** Resolves with the pid once a process with this exact argv runs; fails after `timeoutMs`. */
export async function waitForProcess(argv: readonly string[], timeoutMs = 10_000): Promise<number> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const [pid] = await findProcesses(argv)
    if (pid !== undefined) return pid
    if (Date.now() > end) throw new Error(`no process "${argv.join(' ')}" within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
