import { EXIT } from '../exit-codes.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'

// `stavily audit verify`: the server recomputes the hash chain; a broken chain is exit 1
// with the first broken link, so a cron job can alert on it.

type Verification =
  | { ok: true; entries: number }
  | { ok: false; firstBroken: { seq: number | string; reason: string; message?: string } }

const verify: CommandSpec = {
  words: ['audit', 'verify'],
  summary: 'recompute the audit hash chain; exit 1 and name the first broken link if it is broken',
  args: [],
  options: {},
  async run({ out, json, client }) {
    const v = await (await client()).get<Verification>('/audit/verify')
    if (json) out.json(v)
    else if (v.ok)
      out.line(
        `audit chain ${out.status('intact')}: ${v.entries} entr${v.entries === 1 ? 'y' : 'ies'} verified`,
      )
    else
      out.line(
        `audit chain ${out.paint('BROKEN', 'red')} at entry ${v.firstBroken.seq}: ${v.firstBroken.reason}${v.firstBroken.message ? ` (${v.firstBroken.message})` : ''}`,
      )
    return v.ok ? EXIT.ok : EXIT.failed
  },
}

export const auditGroup: GroupSpec = {
  name: 'audit',
  summary: 'the audit log: every change and every run transition, hash-chained',
  commands: [verify],
}
