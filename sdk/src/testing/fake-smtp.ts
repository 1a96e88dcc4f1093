import type { MailMessage, Smtp, SmtpResult } from '../context.ts'
import { ErrorCodes, PluginError } from '../errors.ts'
import { mailMessageProblem } from '../manifest/capability-args.ts'
import type { PermissionGuard } from '../manifest/permission-guard.ts'
import { string } from './args.ts'
import type { HarnessOptions } from './options.ts'
import type { Calls } from './recorder.ts'

/** The largest text and html the harness accepts in one message, as the agent's default `smtpMessageBytes`. */
const MESSAGE_CHARS = 10 * 1024 * 1024

/** `ctx.smtp` of the harness: the relay through the guard, the message checked as on an agent, then the fake. */
export function fakeSmtp(guard: PermissionGuard, fakes: HarnessOptions['smtp'], calls: Calls): Smtp {
  return Object.freeze({
    async send(relay: unknown, message: unknown): Promise<SmtpResult> {
      const name = guard.smtp(string('smtp.send relay', relay))
      const problem = mailMessageProblem(message, MESSAGE_CHARS)
      if (problem !== undefined)
        throw new PluginError(ErrorCodes.INVALID_ARGUMENT, problem, {
          data: { argument: problem.split(':')[0] ?? '' },
        })
      const copy = structuredClone(message) as MailMessage
      calls.smtp.push({ relay: name, message: copy })
      const fake = fakes?.[name]
      if (fake === undefined) {
        throw new PluginError(
          ErrorCodes.TEST_FAKE_MISSING,
          `harness: no fake for smtp relay "${name}"; pass smtp: { "${name}": {} } (or a function of the message)`,
          { data: { relay: name } },
        )
      }
      const result =
        typeof fake === 'function' ? await fake({ relay: name, message: structuredClone(copy) }) : fake
      const to = ([] as string[]).concat(copy.to, copy.cc ?? [], copy.bcc ?? [])
      return {
        messageId: result.messageId ?? `<test-${calls.smtp.length}@stavily.test>`,
        accepted: result.accepted ?? to,
        rejected: result.rejected ?? [],
        response: result.response ?? '250 OK (harness)',
      }
    },
  })
}
