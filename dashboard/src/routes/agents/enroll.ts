// The enrollment form's logic: labels typed as `key=value, key=value`, and the command line
// that starts an agent with a fresh token (flags as docs/deploying-agents.md gives them). The
// token's labels are bound to it and win over the agent's own, so the command repeats none.

export type Parsed = { value: Record<string, string>; error: null } | { value: null; error: string }

// As the API checks them (core's LABEL_KEY_PATTERN).
const LABEL_KEY = /^[a-z0-9][a-z0-9._/-]{0,62}$/

export function parseLabels(text: string): Parsed {
  const value: Record<string, string> = {}
  for (const part of text.split(',')) {
    const item = part.trim()
    if (!item) continue
    const eq = item.indexOf('=')
    if (eq <= 0) return { value: null, error: `"${item}": write key=value` }
    const key = item.slice(0, eq).trim()
    if (!LABEL_KEY.test(key))
      return { value: null, error: `"${key}": lower-case letters, digits and . _ / - (at most 63)` }
    if (key in value) return { value: null, error: `"${key}" is given twice` }
    value[key] = item.slice(eq + 1).trim()
  }
  return { value, error: null }
}

/** Quotes a word for a POSIX shell when it holds anything but safe characters. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

export function agentCommand(orchestrator: string, e: { token: string; pool: string }): string {
  const args = [
    'stavily-agent',
    '--orchestrator',
    orchestrator,
    '--enrollment-token',
    e.token,
    '--data-dir',
    '/var/lib/stavily-agent',
    '--name',
    `${e.pool}-$(hostname)`,
  ]
  // The name is left to the shell ($(hostname)), so it is double-quoted, not escaped.
  return args.map((a, i) => (i === args.length - 1 ? `"${a}"` : shellWord(a))).join(' ')
}
