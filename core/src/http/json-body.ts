import { WIRE_LIMITS } from '@stavily/protocol'

// What JSON.parse lets through but the APIs refuse, found in one linear pass over the
// body's text before it is parsed:
// - a duplicate key: JSON.parse keeps the last one silently, so a signer, a logger and the
//   handler could each read a different value; refused, naming the key's path;
// - nesting deeper than WIRE_LIMITS.maxDepth: refused before JSON.parse spends a second of
//   CPU on a megabyte of `[`.
// Malformed JSON is not this pass's business: it stops, and JSON.parse then says what is wrong.

export type JsonTextProblem = { path: string; kind: 'duplicate' | 'depth'; message: string }

type Frame = { obj: boolean; path: string; keys: Set<string>; key: string; index: number; expectKey: boolean }

function join(path: string, key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

/** The first duplicate key or excess nesting in a JSON text, with its path under `root`. */
export function findJsonTextProblem(text: string, root = 'body'): JsonTextProblem | null {
  const stack: Frame[] = []
  const maxDepth = WIRE_LIMITS.maxDepth
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const top = stack[stack.length - 1]
    switch (c) {
      case 0x7b /* { */:
      case 0x5b /* [ */:
        {
          const path = !top ? root : top.obj ? join(top.path, top.key) : `${top.path}[${top.index}]`
          if (stack.length >= maxDepth)
            return { path, kind: 'depth', message: `nests deeper than ${maxDepth} levels` }
          stack.push({ obj: c === 0x7b, path, keys: new Set(), key: '', index: 0, expectKey: c === 0x7b })
          break
        }
      case 0x7d /* } */:
      case 0x5d /* ] */:
        if (!stack.pop()) return null
        break
      case 0x2c /* , */:
        if (top?.obj) top.expectKey = true
        else if (top) top.index++
        break
      case 0x3a /* : */:
        if (top) top.expectKey = false
        break
      case 0x22 /* " */:
        {
          let j = i + 1
          while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1
          if (j >= text.length) return null
          if (top?.obj && top.expectKey) {
            let key: string
            try {
              key = JSON.parse(text.slice(i, j + 1)) as string
            } catch {
              return null
            }
            if (top.keys.has(key)) {
              const path = join(top.path, key)
              return { path, kind: 'duplicate', message: 'duplicate key (each key may appear once)' }
            }
            top.keys.add(key)
            top.key = key
          }
          i = j
          break
        }
    }
  }
  return null
}
