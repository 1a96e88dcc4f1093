// Server-Sent Events parsing (the WHATWG event-stream format), fed text chunks as they
// arrive. Plain code, no browser API, so it is tested on its own; stream.ts reads the bytes.

export interface SseMessage {
  /** The `event:` field; `message` when the server named none. */
  event: string
  /** The `data:` lines joined by newlines. */
  data: string
  /** The last `id:` seen, if any. */
  id?: string
}

export class SseParser {
  #buffer = ''
  #event = ''
  #data: string[] = []
  #id: string | undefined
  #started = false
  /** The server's `retry:` in milliseconds, once it sent one. */
  retryMs: number | undefined
  /** Comment lines (`: ping`) seen since the last call: proof the stream is alive. */
  comments = 0

  /** Adds a decoded chunk; answers the messages it completed. */
  push(chunk: string): SseMessage[] {
    let text = this.#buffer + chunk
    if (!this.#started && text.length > 0) {
      this.#started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    const out: SseMessage[] = []
    let start = 0
    for (let i = 0; i < text.length; i++) {
      const c = text[i]
      if (c !== '\n' && c !== '\r') continue
      // A \r at the very end may be the first half of \r\n: wait for the next chunk.
      if (c === '\r' && i === text.length - 1) break
      this.#line(text.slice(start, i), out)
      if (c === '\r' && text[i + 1] === '\n') i++
      start = i + 1
    }
    this.#buffer = text.slice(start)
    return out
  }

  #line(line: string, out: SseMessage[]): void {
    if (line === '') {
      if (this.#data.length > 0) {
        const message: SseMessage = { event: this.#event || 'message', data: this.#data.join('\n') }
        if (this.#id !== undefined) message.id = this.#id
        out.push(message)
      }
      this.#event = ''
      this.#data = []
      return
    }
    if (line.startsWith(':')) {
      this.comments++
      return
    }
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') this.#event = value
    else if (field === 'data') this.#data.push(value)
    else if (field === 'id' && !value.includes('\0')) this.#id = value
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value)
  }
}
