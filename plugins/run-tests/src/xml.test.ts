import { describe, expect, it } from 'vitest'
import { parseXml, XML_LIMITS } from './xml.ts'

describe('parseXml', () => {
  it('reads elements, attributes in either quote, entities, character references, CDATA; skips comments and the declaration', () => {
    const root = parseXml(
      `\uFEFF<?xml version="1.0"?>\n<!-- c --><a x="1 &lt; 2 &amp; 3 > 0" y='it&apos;s'><b/><c>t &#65;&#x42; <![CDATA[<raw & "x">]]></c></a>`,
    )
    expect(root.name).toBe('a')
    expect(root.attributes).toEqual({ x: '1 < 2 & 3 > 0', y: "it's" })
    expect(root.children.map((c) => c.name)).toEqual(['b', 'c'])
    expect(root.children[1]!.text).toBe('t AB <raw & "x">')
  })

  it('refuses a DOCTYPE, so no entity can expand (billion laughs, external entities)', () => {
    const bomb =
      '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><testsuites>&lol2;</testsuites>'
    expect(() => parseXml(bomb)).toThrow('line 1: a DOCTYPE or declaration is not supported')
    expect(() => parseXml('<a>&xxe;</a>')).toThrow('unknown entity &xxe;')
    // Object's members are not entities.
    expect(() => parseXml('<a>&constructor;</a>')).toThrow('unknown entity &constructor;')
  })

  it('says what is wrong and on which line', () => {
    const cases: [string, string][] = [
      ['<a>\n<b></a>', 'line 2: closing tag </a> does not match <b>'],
      ['<a>', '<a> is not closed'],
      ['<a x=1/>', 'attribute x of <a>: expected a quoted value'],
      ['<a x="1" x="2"/>', 'attribute x repeated in <a>'],
      ['<a/><b/>', 'a second root element'],
      ['', 'no root element'],
      ['<a>&#0;</a>', 'bad character reference'],
      ['<a>a & b</a>', '"&" that starts no entity'],
      ['<a><!-- x </a>', 'unterminated comment'],
    ]
    for (const [text, message] of cases) expect(() => parseXml(text), text).toThrow(message)
  })

  it('stops at its depth limit and keeps attribute names such as __proto__ as plain keys', () => {
    const deep = '<a>'.repeat(XML_LIMITS.maxDepth + 1) + '</a>'.repeat(XML_LIMITS.maxDepth + 1)
    expect(() => parseXml(deep)).toThrow(`nested deeper than ${XML_LIMITS.maxDepth}`)
    const root = parseXml('<a __proto__="x" constructor="y"/>')
    expect(Object.getOwnPropertyDescriptor(root.attributes, '__proto__')?.value).toBe('x')
    expect(({} as Record<string, unknown>).x).toBeUndefined()
  })

  it('keeps at most maxTextChars of an element text', () => {
    const root = parseXml(`<a>${'x'.repeat(XML_LIMITS.maxTextChars * 3)}</a>`)
    expect(root.text.length).toBe(XML_LIMITS.maxTextChars)
  })
})
