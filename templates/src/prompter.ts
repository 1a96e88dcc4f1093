import { createInterface } from 'node:readline/promises'
import { CreateError } from './errors.js'

/** Asks one question and returns the answer line; injectable so the questions are testable without a terminal. */
export interface Prompter {
  ask(question: string): Promise<string>
  close(): void
}

/**
 * A prompter over a readline interface. It reads lines through the async iterator rather
 * than `rl.question`, because the iterator buffers lines that arrive before the question
 * is asked (pasted or piped answers would otherwise be dropped).
 */
export function createPrompter(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Prompter {
  const rl = createInterface({ input, output, terminal: Boolean((input as { isTTY?: boolean }).isTTY) })
  // Without a listener, readline only pauses on Ctrl-C and the process would hang; closing
  // ends the line iterator, which `ask` reports as a cancellation.
  rl.on('SIGINT', () => rl.close())
  const lines = rl[Symbol.asyncIterator]()
  return {
    async ask(question) {
      output.write(question)
      const next = await lines.next()
      if (next.done) {
        output.write('\n')
        throw new CreateError('STAVILY_ERR_CREATE_CANCELLED', 'cancelled; nothing was written')
      }
      return next.value
    },
    close() {
      rl.close()
    },
  }
}
