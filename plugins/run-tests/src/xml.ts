// A small XML reader for test reports (JUnit XML), safe on hostile input: it runs inside
// the plugin sandbox, scans with indexOf (no backtracking regular expressions), refuses a
// DOCTYPE (so no entity can expand), knows only XML's five named entities and numeric
// character references, and stops at limits on depth and element count.

/** An element: its name, attributes and children; text is kept only up to a bound. */
export interface XmlElement {
  name: string
  attributes: Record<string, string>
  children: XmlElement[]
  text: string
}

/** Limits, each with its reason. */
export const XML_LIMITS = {
  /** JUnit reports nest suites a few levels; far deeper is a broken or hostile file. */
  maxDepth: 64,
  /** A hundred thousand test cases and their children is a very large suite already. */
  maxElements: 500_000,
  /** Text kept per element: a failure's first lines, not a megabyte of stack traces. */
  maxTextChars: 4096,
} as const

/** A problem with the report, with its position (1-based line). */
export class XmlError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`)
    this.name = 'XmlError'
  }
}

// A Map, not an object: a reference such as &constructor; must not find Object's members.
const NAMED_ENTITIES = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['quot', '"'],
  ['apos', "'"],
])

/** Parses `text` and returns its root element. */
export function parseXml(text: string): XmlElement {
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  let elements = 0
  const lineAt = (at: number) => {
    let line = 1
    for (let i = text.indexOf('\n'); i !== -1 && i < at; i = text.indexOf('\n', i + 1)) line++
    return line
  }
  const fail = (message: string, at: number): never => {
    throw new XmlError(message, lineAt(at))
  }
  const addText = (value: string) => {
    const top = stack[stack.length - 1]
    if (top === undefined) {
      if (value.trim() !== '') fail('text outside the root element', pos)
      return
    }
    if (top.text.length < XML_LIMITS.maxTextChars) {
      top.text = (top.text + value).slice(0, XML_LIMITS.maxTextChars)
    }
  }

  while (pos < text.length) {
    const lt = text.indexOf('<', pos)
    if (lt === -1) {
      addText(decode(text.slice(pos), pos, fail))
      break
    }
    if (lt > pos) addText(decode(text.slice(pos, lt), pos, fail))
    pos = lt
    if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos + 4)
      if (end === -1) fail('unterminated comment', pos)
      pos = end + 3
    } else if (text.startsWith('<![CDATA[', pos)) {
      const end = text.indexOf(']]>', pos + 9)
      if (end === -1) fail('unterminated CDATA section', pos)
      if (stack.length === 0) fail('CDATA outside the root element', pos)
      addText(text.slice(pos + 9, end))
      pos = end + 3
    } else if (text.startsWith('<?', pos)) {
      const end = text.indexOf('?>', pos + 2)
      if (end === -1) fail('unterminated processing instruction', pos)
      pos = end + 2
    } else if (text.startsWith('<!', pos)) {
      // DOCTYPE (and its internal subset) is where entity expansion lives: refused outright.
      fail('a DOCTYPE or declaration is not supported in a test report', pos)
    } else if (text.startsWith('</', pos)) {
      const end = text.indexOf('>', pos + 2)
      if (end === -1) fail('unterminated closing tag', pos)
      const name = text.slice(pos + 2, end).trim()
      const open = stack.pop()
      if (open === undefined || open.name !== name) {
        fail(`closing tag </${name}> does not match ${open ? `<${open.name}>` : 'any open element'}`, pos)
      }
      pos = end + 1
    } else {
      const parsed = readTag(text, pos + 1, fail)
      if (++elements > XML_LIMITS.maxElements) fail(`more than ${XML_LIMITS.maxElements} elements`, pos)
      const element: XmlElement = { name: parsed.name, attributes: parsed.attributes, children: [], text: '' }
      const parent = stack[stack.length - 1]
      if (parent) parent.children.push(element)
      else if (root) fail('a second root element', pos)
      else root = element
      if (!parsed.selfClosing) {
        if (stack.length >= XML_LIMITS.maxDepth)
          fail(`elements nested deeper than ${XML_LIMITS.maxDepth}`, pos)
        stack.push(element)
      }
      pos = parsed.end
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]!.name}> is not closed`, text.length)
  if (root === undefined) fail('no root element', 0)
  return root!
}

function isNameChar(c: string): boolean {
  return /[A-Za-z0-9_:.-]/.test(c) || c.charCodeAt(0) > 0x7f
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r'
}

/** Reads `name attr="v" ...>` from `start` (just after `<`). */
function readTag(
  text: string,
  start: number,
  fail: (message: string, at: number) => never,
): { name: string; attributes: Record<string, string>; selfClosing: boolean; end: number } {
  let i = start
  while (i < text.length && isNameChar(text[i]!)) i++
  const name = text.slice(start, i)
  if (name === '') fail('expected an element name after "<"', start)
  // A null-prototype record: attribute names such as __proto__ stay plain keys.
  const attributes: Record<string, string> = Object.create(null)
  for (;;) {
    while (isSpace(text[i])) i++
    if (i >= text.length) fail(`unterminated tag <${name}`, start)
    if (text[i] === '>') return { name, attributes, selfClosing: false, end: i + 1 }
    if (text.startsWith('/>', i)) return { name, attributes, selfClosing: true, end: i + 2 }
    const nameStart = i
    while (i < text.length && isNameChar(text[i]!)) i++
    const attr = text.slice(nameStart, i)
    if (attr === '') fail(`unexpected "${text[i]}" in tag <${name}>`, i)
    while (isSpace(text[i])) i++
    if (text[i] !== '=') fail(`attribute ${attr} of <${name}> has no value`, i)
    i++
    while (isSpace(text[i])) i++
    const quote = text[i]
    if (quote !== '"' && quote !== "'") fail(`attribute ${attr} of <${name}>: expected a quoted value`, i)
    const close = text.indexOf(quote!, i + 1)
    if (close === -1) fail(`attribute ${attr} of <${name}>: unterminated value`, i)
    const raw = text.slice(i + 1, close)
    if (raw.includes('<')) fail(`attribute ${attr} of <${name}>: "<" in a value`, i)
    if (attr in attributes) fail(`attribute ${attr} repeated in <${name}>`, nameStart)
    attributes[attr] = decode(raw, i, fail)
    i = close + 1
  }
}

/** Replaces entity and character references. */
function decode(raw: string, at: number, fail: (message: string, at: number) => never): string {
  if (!raw.includes('&')) return raw
  let out = ''
  let pos = 0
  for (;;) {
    const amp = raw.indexOf('&', pos)
    if (amp === -1) return out + raw.slice(pos)
    out += raw.slice(pos, amp)
    const semi = raw.indexOf(';', amp)
    if (semi === -1 || semi - amp > 12) fail('"&" that starts no entity (write &amp;)', at)
    const ref = raw.slice(amp + 1, semi)
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10)
      if (!Number.isInteger(code) || code < 1 || code > 0x10ffff || !/^#(x[0-9A-Fa-f]+|[0-9]+)$/.test(ref)) {
        fail(`bad character reference &${ref};`, at)
      }
      out += String.fromCodePoint(code)
    } else {
      const named = NAMED_ENTITIES.get(ref)
      if (named === undefined)
        fail(`unknown entity &${ref}; (only XML's five are defined without a DOCTYPE)`, at)
      out += named
    }
    pos = semi + 1
  }
}
