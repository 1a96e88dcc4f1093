import { EXIT, type ExitCode } from './exit-codes.ts'

// The one error the commands throw: what went wrong, what to do next, and the exit code
// that says which kind of failure it was. The dispatcher prints it and exits with it.

export class CliError extends Error {
  readonly exitCode: ExitCode
  /** The next step for the user ("run `stavily login`"); printed on its own line. */
  readonly hint: string | undefined

  constructor(exitCode: ExitCode, message: string, hint?: string) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
    this.hint = hint
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError(EXIT.usage, message, hint)
}

export function isCliError(err: unknown): err is CliError {
  return err instanceof CliError
}
