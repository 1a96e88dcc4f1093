import type { PushCommit } from './git-log.ts'

interface Listing {
  commits: PushCommit[]
  truncated: boolean
}

/**
 * Drops listed commits until the events' JSON fits in `budget` bytes: always the oldest
 * listed commit of the event that lists the most, so every push keeps its newest commits
 * and says `truncated`. The count (`totalCommits`) is left as it is.
 */
export function fitToBudget(events: { data: Listing }[], budget: number): void {
  let size = utf8Bytes(JSON.stringify(events))
  const sizes = events.map((e) => e.data.commits.map((c) => utf8Bytes(JSON.stringify(c)) + 1))
  while (size > budget) {
    let widest = -1
    for (let i = 0; i < events.length; i++) {
      if (
        events[i]!.data.commits.length > 0 &&
        (widest < 0 || events[i]!.data.commits.length > events[widest]!.data.commits.length)
      )
        widest = i
    }
    if (widest < 0) return
    const data = events[widest]!.data
    data.commits.shift()
    size -= sizes[widest]!.shift()!
    data.truncated = true
  }
}

/** UTF-8 length of a string (the sandbox has no Buffer). */
export function utf8Bytes(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4
      i++
    } else n += 3
  }
  return n
}
