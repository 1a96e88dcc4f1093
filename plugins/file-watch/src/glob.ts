import { ErrorCodes, PluginError } from '@stavily/sdk'

// Glob patterns as operators write them (`**/*.yaml`, `conf.d/*.{conf,ini}`), compiled to
// regular expressions inside the sandbox: `*` any characters but `/`, `**` any folders
// (`**/` also none), `?` one character, `[abc]` / `[!abc]` a class, `{a,b}` alternatives.
// A pattern starting with `/` is matched against the absolute path, any other against the
// path relative to the watched folder (for a watched file: its name).

const SPECIAL = /[.+^$()|\\]/

export function globToRegExp(glob: string, field: string): RegExp {
  try {
    return new RegExp(`^${convert(glob)}$`)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    throw new PluginError(
      ErrorCodes.INVALID_CONFIG,
      `${field}: ${JSON.stringify(glob)} is not a valid glob (${reason})`,
      {
        data: { field },
      },
    )
  }
}

function convert(glob: string): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++
        if (glob[i + 1] === '/') {
          i++
          out += '(?:.*/)?'
        } else out += '.*'
      } else out += '[^/]*'
    } else if (c === '?') out += '[^/]'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end === -1) out += '\\['
      else {
        const body = glob.slice(i + 1, end).replaceAll('\\', '\\\\')
        out += body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`
        i = end
      }
    } else if (c === '{') {
      const end = glob.indexOf('}', i)
      if (end === -1) out += '\\{'
      else {
        out += `(?:${glob
          .slice(i + 1, end)
          .split(',')
          .map(convert)
          .join('|')})`
        i = end
      }
    } else out += SPECIAL.test(c) ? `\\${c}` : c
  }
  return out
}
