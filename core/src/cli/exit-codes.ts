// What `stavily` exits with. Scripts branch on these, so they never change meaning:
// docs/cli.md lists them, and every failure path maps to one.

export const EXIT = {
  /** Done as asked. */
  ok: 0,
  /** The operation ran and failed: a run failed, the audit chain is broken, the server refused the input. */
  failed: 1,
  /** The command line is wrong: unknown command or option, missing argument, bad value. */
  usage: 2,
  /** No token, a token the server does not accept, or a role that may not do this. */
  auth: 3,
  /** The workflow, run, agent or plugin named does not exist (in this organization). */
  notFound: 4,
  /** The orchestrator did not answer: wrong URL, not running, network down. */
  unreachable: 5,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]
