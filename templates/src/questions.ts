import { normalizeDescription } from './description.js'
import { isCreateError } from './errors.js'
import { KIND_SUMMARIES, PLUGIN_KINDS, type PluginKind, parsePluginKind } from './plugin-kind.js'
import type { Prompter } from './prompter.js'
import { type PluginName, validatePluginName } from './validate-name.js'

/** After this many wrong answers in a row the user is probably stuck; stop rather than loop forever. */
const MAX_ATTEMPTS = 5

/**
 * Asks until the answer passes `parse`, showing the reason after each wrong answer.
 * An empty answer takes `fallback`, which is shown in brackets.
 */
async function askUntilValid<T>(
  prompter: Prompter,
  question: string,
  fallback: string,
  parse: (answer: string) => T,
  warn: (message: string) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const answer = (await prompter.ask(`${question} (${fallback}): `)).trim()
    try {
      return parse(answer === '' ? fallback : answer)
    } catch (error) {
      if (!isCreateError(error) || attempt >= MAX_ATTEMPTS) throw error
      warn(error.message)
    }
  }
}

export function askName(prompter: Prompter, warn: (message: string) => void): Promise<PluginName> {
  return askUntilValid(prompter, 'Plugin name', 'stavily-plugin', validatePluginName, warn)
}

export function askKind(prompter: Prompter, warn: (message: string) => void): Promise<PluginKind> {
  const menu = PLUGIN_KINDS.map((kind, i) => `  ${i + 1}. ${kind.padEnd(6)}  ${KIND_SUMMARIES[kind]}`).join(
    '\n',
  )
  return askUntilValid(
    prompter,
    `Kind of plugin:\n${menu}\nKind (name or number)`,
    'action',
    // A number picks from the menu; anything else must be a kind's name.
    (answer) => parsePluginKind(PLUGIN_KINDS[Number(answer) - 1] ?? answer, 'kind'),
    warn,
  )
}

export function askDescription(
  prompter: Prompter,
  fallback: string,
  warn: (message: string) => void,
): Promise<string> {
  return askUntilValid(
    prompter,
    'Description',
    fallback,
    (answer) => normalizeDescription(answer, 'description'),
    warn,
  )
}
