#!/usr/bin/env node
// The `stavily` executable (dist/cli.js): wires the real process into the dispatcher.
// It loads no orchestrator code until `stavily server` asks for it, so commands start fast.
import { runCli } from './cli.ts'
import type { CliIo } from './io.ts'

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads a line from the terminal with echo off (raw mode), so tokens and secrets never show. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin
    // Echo off before the question shows, so nothing typed in answer is ever displayed.
    stdin.setRawMode?.(true)
    process.stderr.write(question)
    stdin.resume()
    let value = ''
    const done = (err?: Error) => {
      stdin.setRawMode?.(false)
      stdin.pause()
      stdin.off('data', onData)
      process.stderr.write('\n')
      if (err) reject(err)
      else resolve(value)
    }
    const onData = (data: Buffer) => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done()
        if (ch === '\u0003') return done(Object.assign(new Error('interrupted'), { name: 'AbortError' }))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.on('data', onData)
  })
}

const io: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  readStdin,
  promptHidden,
  stdinIsTTY: process.stdin.isTTY === true,
  stdoutIsTTY: process.stdout.isTTY === true,
  stderrIsTTY: process.stderr.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
  onInterrupt(fn) {
    process.on('SIGINT', fn)
    process.on('SIGTERM', fn)
    return () => {
      process.off('SIGINT', fn)
      process.off('SIGTERM', fn)
    }
  },
}

const code = await runCli(process.argv.slice(2), io)
// Exit once stdout has drained (a pipe may be slow): an open keep-alive socket must not
// hold the process after the command is done.
process.stdout.write('', () => process.exit(code))
