import { CreateError } from './errors.js'

/** Long enough for a sentence; package.json descriptions longer than this read badly in `npm search`. */
const MAX_DESCRIPTION_LENGTH = 200

/** One trimmed line, or a clear error; the description lands in package.json and the README's first lines. */
export function normalizeDescription(value: string, source: string): string {
  const description = value.trim()
  if (description.length === 0) {
    throw new CreateError(
      'STAVILY_ERR_CREATE_INVALID_DESCRIPTION',
      `${source}: is empty; write one line, e.g. --description "Restarts a systemd service"`,
    )
  }
  if (/[\r\n]/.test(description)) {
    throw new CreateError(
      'STAVILY_ERR_CREATE_INVALID_DESCRIPTION',
      `${source}: must be a single line; remove the line breaks`,
    )
  }
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw new CreateError(
      'STAVILY_ERR_CREATE_INVALID_DESCRIPTION',
      `${source}: is ${description.length} characters; keep it under ${MAX_DESCRIPTION_LENGTH} and put details in the README`,
    )
  }
  return description
}
