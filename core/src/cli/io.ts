// Everything a command touches outside itself, so the dispatcher can run against the real
// process (main.ts) and stay testable.

export interface CliIo {
  stdout(text: string): void
  stderr(text: string): void
  /** All of standard input (a token, a secret value, a document piped in). */
  readStdin(): Promise<string>
  /** Asks on the terminal and reads one line without echoing it (tokens, secret values). */
  promptHidden(question: string): Promise<string>
  stdinIsTTY: boolean
  stdoutIsTTY: boolean
  stderrIsTTY: boolean
  env: Readonly<Record<string, string | undefined>>
  cwd: string
  /** Calls `fn` on Ctrl-C (SIGINT) or SIGTERM; returns the unsubscribe function. */
  onInterrupt(fn: () => void): () => void
}
