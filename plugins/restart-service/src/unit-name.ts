import { ErrorCodes, PluginError } from '@stavily/sdk'

/** systemd's own limit for a unit name (UNIT_NAME_MAX). */
export const MAX_UNIT_LENGTH = 256
/**
 * The characters systemd allows in a unit name, without "\" (systemd-escape's escapes are
 * rare in unit names and a backslash is a quoting character in every shell): letters,
 * digits, ":", "_", ".", "@" and "-".
 */
const UNIT_CHARACTERS = /^[A-Za-z0-9:_.@-]+$/

/**
 * Checks a unit (or service, container) name that may come from event data. The command
 * runs without a shell, so the dangers are an option (`--root=/`, `-H host`) and, when a
 * configured template puts the name in a path, `..`. Returns the name or throws naming `field`.
 */
export function checkUnitName(unit: string, field: string): string {
  const shown = JSON.stringify(unit)
  const fail = (why: string) =>
    new PluginError(ErrorCodes.INVALID_INPUT, `${field}: ${shown} ${why}`, {
      data: { field: field.replace(/^input\./, '') },
    })
  if (unit.length === 0) throw fail('is empty; expected a unit name such as "nginx.service"')
  if (unit.length > MAX_UNIT_LENGTH) throw fail(`is longer than ${MAX_UNIT_LENGTH} characters`)
  if (unit.startsWith('-')) throw fail('starts with "-", which the command would read as an option')
  if (!UNIT_CHARACTERS.test(unit)) {
    const bad = [...unit].find((ch) => !UNIT_CHARACTERS.test(ch))
    throw fail(
      `contains ${JSON.stringify(bad)}; a unit name uses only letters, digits and ":", "_", ".", "@", "-"`,
    )
  }
  if (unit.includes('..')) throw fail('contains ".."')
  return unit
}
