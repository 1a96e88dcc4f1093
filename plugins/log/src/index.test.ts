import { ErrorCodes } from '@stavily/sdk'
import { testOutput } from '@stavily/sdk/testing'
import { describe, expect, it } from 'vitest'
import pkg from '../package.json' with { type: 'json' }
import plugin, { utf8Length } from './index.ts'

const file = '/var/log/stavily/audit.jsonl'

describe('log', () => {
  it('writes the message and fields through ctx.log at the configured level', async () => {
    const { output, logs, calls } = await testOutput(plugin, {
      manifest: pkg,
      config: { level: 'warn' },
      input: { message: 'demo-web restarted', fields: { unit: 'demo-web', attempts: 1 } },
    })
    expect(logs).toEqual([
      { level: 'warn', message: 'demo-web restarted', fields: { unit: 'demo-web', attempts: 1 } },
    ])
    expect(output).toEqual({ level: 'warn', file: null, droppedLines: 0 })
    expect(calls.fs).toEqual([])
  })

  it('defaults to info, and the input level overrides the config', async () => {
    const plain = await testOutput(plugin, { manifest: pkg, input: { message: 'ok' } })
    expect(plain.logs[0]).toMatchObject({ level: 'info', message: 'ok' })
    const failed = await testOutput(plugin, {
      manifest: pkg,
      config: { level: 'info' },
      input: { message: 'run failed', level: 'error' },
    })
    expect(failed.logs[0]).toMatchObject({ level: 'error' })
  })

  it('creates the file with one JSON line, then appends to it', async () => {
    const first = await testOutput(plugin, {
      manifest: pkg,
      config: { file },
      input: { message: 'first', fields: { n: 1 } },
      invocationId: 'inv-1',
      idempotencyKey: 'run-1:log',
      files: { '/var/log/stavily/': '' },
    })
    expect(first.output).toEqual({ level: 'info', file, droppedLines: 0 })
    const second = await testOutput(plugin, {
      manifest: pkg,
      config: { file },
      input: { message: 'second' },
      files: first.files,
    })
    const lines = second.files[file]!.split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[2]).toBe('')
    expect(JSON.parse(lines[0]!)).toEqual({
      time: expect.stringMatching(/^\d{4}-/),
      level: 'info',
      message: 'first',
      fields: { n: 1 },
      invocationId: 'inv-1',
      idempotencyKey: 'run-1:log',
    })
    expect(JSON.parse(lines[1]!)).toMatchObject({ message: 'second' })
    expect(JSON.parse(lines[1]!)).not.toHaveProperty('fields')
  })

  it('ends a last line that lacks its newline before appending', async () => {
    const { files } = await testOutput(plugin, {
      manifest: pkg,
      config: { file },
      input: { message: 'next' },
      files: { [file]: '{"message":"old"}' },
    })
    expect(files[file]!.split('\n').slice(0, 1)).toEqual(['{"message":"old"}'])
  })

  it('drops the oldest lines to stay under maxFileBytes, and says how many', async () => {
    const old = `${'x'.repeat(500)}\n`.repeat(4)
    const { output, files, logs } = await testOutput(plugin, {
      manifest: pkg,
      config: { file, maxFileBytes: 1024 },
      input: { message: 'new' },
      files: { [file]: old },
    })
    expect(output.droppedLines).toBe(3)
    expect(utf8Length(files[file]!)).toBeLessThanOrEqual(1024)
    expect(files[file]!.startsWith(`${'x'.repeat(500)}\n{`)).toBe(true)
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', fields: { file, dropped: 3 } }))
  })

  it('counts UTF-8 bytes, not characters', () => {
    expect(utf8Length('aé€😀')).toBe(1 + 2 + 3 + 4)
  })

  it('refuses a line larger than maxFileBytes', async () => {
    const run = testOutput(plugin, {
      manifest: pkg,
      config: { file, maxFileBytes: 1024 },
      input: { message: 'y'.repeat(2000) },
    })
    await expect(run).rejects.toMatchObject({
      code: ErrorCodes.INVALID_INPUT,
      message: expect.stringContaining('config.maxFileBytes'),
    })
  })

  it('is denied a file outside the declared folders, or one the operator did not grant', async () => {
    await expect(
      testOutput(plugin, { manifest: pkg, config: { file: '/etc/cron.d/x' }, input: { message: 'm' } }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'fs.read', reason: 'undeclared' },
    })
    await expect(
      testOutput(plugin, {
        manifest: pkg,
        grants: { fs: { read: ['/var/log/stavily'], write: ['/tmp/stavily'] } },
        config: { file },
        input: { message: 'm' },
      }),
    ).rejects.toMatchObject({
      code: ErrorCodes.PERMISSION_DENIED,
      data: { permission: 'fs.write', reason: 'ungranted' },
    })
  })

  it('rejects bad config and input, naming the field', async () => {
    const configs: [Record<string, unknown>, string][] = [
      [{ level: 'verbose' }, 'config.level'],
      [{ file: 'audit.log' }, 'config.file'],
      [{ file: '/var/log/stavily/' }, 'config.file'],
      [{ maxFileBytes: 10 }, 'config.maxFileBytes'],
      [{ path: '/tmp/stavily/x' }, 'config.path'],
    ]
    for (const [config, field] of configs) {
      await expect(
        testOutput(plugin, { manifest: pkg, config: config as never, input: { message: 'm' } }),
        field,
      ).rejects.toMatchObject({ code: ErrorCodes.INVALID_CONFIG, message: expect.stringContaining(field) })
    }
    for (const [input, field] of [
      [{}, 'input.message'],
      [{ message: 'm', fields: 'x' }, 'input.fields'],
      [{ message: 'm', level: 'fatal' }, 'input.level'],
    ] as [Record<string, unknown>, string][]) {
      await expect(testOutput(plugin, { manifest: pkg, input: input as never }), field).rejects.toMatchObject(
        {
          code: ErrorCodes.INVALID_INPUT,
          message: expect.stringContaining(field),
        },
      )
    }
  })
})
