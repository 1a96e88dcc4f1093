import { inspect } from 'node:util'

// A secret's plaintext in memory. Everything that could print it (string conversion,
// JSON, util.inspect, console.log, template literals) prints a placeholder; only reveal()
// gives the value, so a secret reaches a log only when code asks for it by name.

const REDACTED = '[redacted]'

export class SecretValue {
  readonly #value: string
  readonly name: string

  constructor(name: string, value: string) {
    this.name = name
    this.#value = value
  }

  /** The plaintext. Call it only where the value is handed to the invocation that needs it. */
  reveal(): string {
    return this.#value
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [Symbol.toPrimitive](): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return `SecretValue(${this.name}) ${REDACTED}`
  }
}
