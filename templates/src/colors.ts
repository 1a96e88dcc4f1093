/**
 * Minimal ANSI styling. Colour only on a terminal, never in pipes, logs or CI output, and
 * never when NO_COLOR is set (https://no-color.org); FORCE_COLOR turns it on regardless.
 */
export interface Colors {
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  cyan(text: string): string
}

export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'
  const enabled = forced || (Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb')
  const wrap = (open: number, close: number) => (text: string) =>
    enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), cyan: wrap(36, 39) }
}
