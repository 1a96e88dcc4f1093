import type { StateStore } from '../context.ts'
import type { JsonValue } from '../json.ts'
import { invalid, jsonCopy, string } from './args.ts'
import type { Calls } from './recorder.ts'

const MAX_KEY_LENGTH = 256 // the sandbox's limit for a state key

/** `ctx.state` of the harness: an in-memory map of JSON copies, as state crosses as copies. */
export function fakeState(initial: Record<string, JsonValue> | undefined, calls: Calls) {
  const values = new Map<string, JsonValue>()
  for (const [key, value] of Object.entries(initial ?? {}))
    values.set(key, jsonCopy(`harness state.${key}`, value))
  const key = (where: string, value: unknown) => {
    const text = string(where, value)
    if (text.length > MAX_KEY_LENGTH) throw invalid(where, `at most ${MAX_KEY_LENGTH} characters`, text)
    return text
  }
  const state: StateStore = {
    async get(name) {
      const checked = key('state.get key', name)
      calls.state.push({ op: 'get', key: checked })
      const value = values.get(checked)
      return value === undefined ? undefined : jsonCopy('state', value)
    },
    async set(name, value) {
      const checked = key('state.set key', name)
      const copy = jsonCopy('state.set value', value === undefined ? null : value)
      calls.state.push({ op: 'set', key: checked, value: copy })
      values.set(checked, copy)
    },
    async delete(name) {
      const checked = key('state.delete key', name)
      calls.state.push({ op: 'delete', key: checked })
      values.delete(checked)
    },
  }
  return { state, snapshot: () => Object.fromEntries(values) as Record<string, JsonValue> }
}
