import { describe, expect, it } from 'vitest'
import { MAIL_MAX_RECIPIENTS, mailMessageProblem } from './capability-args.ts'

const message = (to: string[]) => ({ to, subject: 's', text: 't' })

describe('mail message checks', () => {
  it('takes one address per entry, plain or with a display name', () => {
    expect(
      mailMessageProblem(message(['ops@example.com', 'Ops Team <ops@example.com>']), 1e6),
    ).toBeUndefined()
    expect(mailMessageProblem(message(['"Ops, Team" <ops@example.com>']), 1e6)).toBeUndefined()
  })

  it('refuses an entry that a mail library would read as several recipients', () => {
    // Unquoted, the display name's addresses would each become a recipient: one entry could
    // then carry thousands past the cap.
    const many = `${Array.from({ length: 12 }, (_, i) => `u${i}@x.io`).join(', ')} <ops@example.com>`
    expect(mailMessageProblem(message([many]), 1e6)).toMatch(
      /^smtp\.send message\.to\[0\]: expected an address/,
    )
    expect(mailMessageProblem(message(['a; b <ops@example.com>']), 1e6)).toMatch(/message\.to\[0\]/)
    expect(mailMessageProblem(message(Array(MAIL_MAX_RECIPIENTS + 1).fill('a@x.io')), 1e6)).toMatch(
      /at most 100/,
    )
  })
})
