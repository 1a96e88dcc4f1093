import { describe, expect, it } from 'vitest'
import { nameProblems, validatePluginName } from './validate-name.js'

describe('validatePluginName', () => {
  it.each([
    ['my-plugin', 'my-plugin'],
    ['stavily.plugin_2', 'stavily.plugin_2'],
    ['@acme/stavily-plugin-restart', 'stavily-plugin-restart'],
  ])('accepts %s and puts it in ./%s', (name, folder) => {
    expect(validatePluginName(name)).toEqual({ packageName: name, folderName: folder })
  })

  it.each([
    ['', 'is empty'],
    ['My-Plugin', 'has uppercase letters'],
    ['my plugin', 'not URL-safe'],
    [' my-plugin', 'leading or trailing spaces'],
    ['.hidden', 'starts with "." or "_"'],
    ['_private', 'starts with "." or "_"'],
    ['@acme/_x', 'starts with "." or "_"'],
    ['@acme', 'not of the form @scope/name'],
    ['@acme/a/b', 'not of the form @scope/name'],
    ['wow!', "~'!()*"],
    ['fs', 'reserved'],
    ['node_modules', 'reserved'],
    ['a'.repeat(215), 'longer than 214'],
  ])('rejects %j: it %s', (name, reason) => {
    expect(nameProblems(name).join('; ')).toContain(reason)
    expect(() => validatePluginName(name)).toThrow(
      expect.objectContaining({ code: 'STAVILY_ERR_CREATE_INVALID_NAME' }),
    )
  })

  it('lists every problem at once, with an example of a valid name', () => {
    expect(() => validatePluginName('My Plugin')).toThrow(
      '"My Plugin" is not a valid npm package name: it has uppercase letters; it has characters that are not URL-safe',
    )
    expect(() => validatePluginName('My Plugin')).toThrow('Valid names look like "my-plugin"')
  })
})
