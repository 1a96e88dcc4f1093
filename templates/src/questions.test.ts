import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { createPrompter, type Prompter } from './prompter.js'
import { askDescription, askKind, askName } from './questions.js'

/** A real readline prompter over in-memory streams: the answers are typed ahead, as a fast user or a paste would. */
function promptWith(answers: string[], { end = true } = {}) {
  const input = new PassThrough()
  const output = new PassThrough()
  let shown = ''
  output.setEncoding('utf8').on('data', (chunk: string) => {
    shown += chunk
  })
  input.write(answers.map((answer) => `${answer}\n`).join(''))
  if (end) input.end()
  const prompter = createPrompter(input, output)
  open.push(prompter)
  const warnings: string[] = []
  return { prompter, warnings, warn: (message: string) => warnings.push(message), shown: () => shown }
}

const open: Prompter[] = []
afterEach(() => {
  for (const prompter of open.splice(0)) prompter.close()
})

describe('askKind', () => {
  it('shows the kinds with what each does, and takes a number', async () => {
    const { prompter, warn, shown } = promptWith(['1'])
    expect(await askKind(prompter, warn)).toBe('sensor')
    expect(shown()).toContain('1. sensor')
    expect(shown()).toContain('observes something and emits events')
    expect(shown()).toContain('3. output')
  })

  it('takes a name in any case, and action on an empty answer', async () => {
    expect(await askKind(promptWith([' Output ']).prompter, () => {})).toBe('output')
    expect(await askKind(promptWith(['']).prompter, () => {})).toBe('action')
  })

  it('explains a wrong answer and asks again', async () => {
    const { prompter, warn, warnings } = promptWith(['trigger', '7', 'sensor'])
    expect(await askKind(prompter, warn)).toBe('sensor')
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toContain('"trigger" is not a plugin kind; use one of sensor, action, output')
  })

  it('gives up after five wrong answers instead of asking forever', async () => {
    const { prompter, warn } = promptWith(['a', 'b', 'c', 'd', 'e', 'sensor'])
    await expect(askKind(prompter, warn)).rejects.toMatchObject({ code: 'STAVILY_ERR_CREATE_INVALID_KIND' })
  })

  it('reports a closed input (Ctrl-D) as a cancellation, not a hang', async () => {
    const { prompter, warn } = promptWith([])
    await expect(askKind(prompter, warn)).rejects.toMatchObject({
      code: 'STAVILY_ERR_CREATE_CANCELLED',
      exitCode: 130,
    })
  })
})

describe('askName and askDescription', () => {
  it('asks again after an invalid name, and maps a scope to its folder', async () => {
    const { prompter, warn, warnings } = promptWith(['Bad Name', '@acme/url-check'])
    expect(await askName(prompter, warn)).toEqual({ packageName: '@acme/url-check', folderName: 'url-check' })
    expect(warnings[0]).toContain('"Bad Name" is not a valid npm package name')
  })

  it('offers the default description and keeps a typed one trimmed', async () => {
    const typed = promptWith(['  Checks the queue depth  '])
    expect(await askDescription(typed.prompter, 'A Stavily sensor plugin', () => {})).toBe(
      'Checks the queue depth',
    )
    expect(typed.shown()).toContain('(A Stavily sensor plugin)')
    const empty = promptWith([''])
    expect(await askDescription(empty.prompter, 'A Stavily sensor plugin', () => {})).toBe(
      'A Stavily sensor plugin',
    )
  })
})
