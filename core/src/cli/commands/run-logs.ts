import { CliError } from '../cli-error.ts'
import { EXIT } from '../exit-codes.ts'
import { type LogLine, printLogLines } from '../log-lines.ts'
import type { CommandSpec } from '../spec.ts'
import { enc } from './workflow-document.ts'

// `stavily run logs RUN [STEP]`: what each step's plugin logged (ctx.log) and the stderr of
// the commands it ran, every attempt, from the run detail (GET /runs/:id).

interface StepWithLogs {
  stepId: string
  status: string
  logs?: LogLine[]
}

export const runLogs: CommandSpec = {
  words: ['run', 'logs'],
  summary: "print the plugin log lines of a run's steps (ctx.log and command stderr)",
  args: [
    { name: 'ID', required: true, description: 'run id' },
    { name: 'STEP', required: false, description: 'only this step (its id in the workflow)' },
  ],
  options: {},
  examples: ['stavily run logs 0b6f…e1', 'stavily run logs 0b6f…e1 restart --json'],
  async run({ args, out, json, client }) {
    const run = await (await client()).get<{ id: string; steps?: StepWithLogs[] }>(`/runs/${enc(args[0]!)}`)
    let steps = run.steps ?? []
    const only = args[1]
    if (only !== undefined) {
      steps = steps.filter((s) => s.stepId === only)
      if (steps.length === 0)
        throw new CliError(
          EXIT.notFound,
          `run ${run.id} has no step "${only}"`,
          `its steps: ${(run.steps ?? []).map((s) => s.stepId).join(', ') || 'none yet'}`,
        )
    }
    if (json) {
      out.json(
        only === undefined
          ? steps.map((s) => ({ stepId: s.stepId, logs: s.logs ?? [] }))
          : (steps[0]?.logs ?? []),
      )
      return EXIT.ok
    }
    for (const s of steps) {
      const logs = s.logs ?? []
      if (only === undefined) out.line(out.paint(`── ${s.stepId} (${s.status})`, 'bold'))
      if (logs.length === 0) out.note(`(step ${s.stepId}: no log lines)`)
      printLogLines(out, logs)
    }
    return EXIT.ok
  },
}
