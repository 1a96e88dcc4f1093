import {
  type ActionContext,
  defineAction,
  ErrorCodes,
  type ExecResult,
  PluginError,
  Type,
} from '@stavily/sdk'
import { checkUnitName } from './unit-name.ts'

/** The placeholder a configured command replaces with the unit name. */
export const UNIT_PLACEHOLDER = '{unit}'

/** Error codes of this plugin. */
export const Codes = {
  /** The restart command failed (non-zero exit, signal or timeout). */
  RESTART_FAILED: 'RESTART_SERVICE_FAILED',
  /** The restart command succeeded but the service is not running afterwards. */
  NOT_ACTIVE: 'RESTART_SERVICE_NOT_ACTIVE',
} as const

const argv = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 50, description })

const Config = Type.Object(
  {
    command: Type.Optional(
      argv(
        'Restart with this argv instead of systemd, e.g. ["docker", "restart", "{unit}"]; {unit} is replaced by input.unit',
      ),
    ),
    verifyCommand: Type.Optional(
      argv(
        'With config.command: an argv that exits 0 when the service runs, e.g. ["supervisorctl", "status", "{unit}"]',
      ),
    ),
    sudo: Type.Optional(Type.Boolean({ description: 'systemd only: run systemctl through "sudo -n"' })),
    verify: Type.Optional(
      Type.Boolean({ description: 'Check the service is active after the restart (default true)' }),
    ),
    allowedUnits: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000 }),
    ),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000 })),
  },
  { additionalProperties: false },
)

const Input = Type.Object(
  { unit: Type.String({ minLength: 1, maxLength: 256, description: 'The unit, e.g. "nginx.service"' }) },
  { additionalProperties: false },
)

const Output = Type.Object({
  unit: Type.String(),
  restarted: Type.Boolean(),
  /** Whether the service runs after the restart; null when not verified. */
  active: Type.Union([Type.Boolean(), Type.Null()]),
  /** systemd's ActiveState ("active", "failed", …), or null without systemd verification. */
  state: Type.Union([Type.String(), Type.Null()]),
  /** The argv that restarted the service. */
  command: Type.Array(Type.String()),
  durationMs: Type.Integer(),
})

type Config = {
  command?: string[]
  verifyCommand?: string[]
  sudo?: boolean
  verify?: boolean
  allowedUnits?: string[]
  timeoutMs?: number
}

/**
 * Restarts a service: `systemctl restart <unit>` by default, or a configured argv with
 * `{unit}` in it, then checks it runs (`systemctl is-active <unit>`, or the configured
 * verifyCommand). The unit name usually comes from event data, so it is checked strictly
 * before anything runs.
 */
export default defineAction({
  config: Config,
  input: Input,
  output: Output,

  async run(ctx, input) {
    const config = ctx.config
    checkTemplates(config)
    const unit = checkUnitName(input.unit, 'input.unit')
    if (config.allowedUnits !== undefined && !config.allowedUnits.includes(unit)) {
      throw new PluginError(
        ErrorCodes.INVALID_INPUT,
        `input.unit: ${JSON.stringify(unit)} is not in config.allowedUnits (${config.allowedUnits.join(', ') || 'empty'})`,
        { data: { field: 'unit' } },
      )
    }
    const systemd = config.command === undefined
    const systemctl = (...args: string[]) =>
      config.sudo === true ? ['sudo', '-n', 'systemctl', ...args] : ['systemctl', ...args]
    const argv = systemd ? systemctl('restart', unit) : fill(config.command!, unit)

    const started = Date.now()
    const result = await run(ctx, argv, config.timeoutMs)
    const durationMs = Math.max(0, Date.now() - started)
    if (result.code !== 0 || result.timedOut) {
      throw new PluginError(
        Codes.RESTART_FAILED,
        `${argv.join(' ')} ${describeExit(result)}${excerpt(result)}`,
        {
          // A timeout may pass on a second try; an exit code is the service manager's answer.
          retryable: result.timedOut,
          data: { unit, command: argv, code: result.code, signal: result.signal, timedOut: result.timedOut },
        },
      )
    }
    ctx.log.info('service restarted', { unit, command: argv, durationMs })

    if (config.verify === false || (!systemd && config.verifyCommand === undefined)) {
      return { unit, restarted: true, active: null, state: null, command: argv, durationMs }
    }
    // `systemctl restart` waits for the start job to finish (without --no-block), so one
    // is-active right after it tells whether the service came up; no polling is needed.
    const check = systemd ? systemctl('is-active', unit) : fill(config.verifyCommand!, unit)
    const verified = await run(ctx, check, config.timeoutMs)
    const state = systemd ? verified.stdout.trim() || 'unknown' : null
    const active = verified.code === 0 && !verified.timedOut && (!systemd || state === 'active')
    if (!active) {
      throw new PluginError(
        Codes.NOT_ACTIVE,
        `${unit} was restarted but is not running: ${check.join(' ')} ${systemd ? `says "${state}"` : describeExit(verified)}`,
        // Restarting again is what an operator would try next; the workflow's retry limit bounds it.
        { retryable: true, data: { unit, state, code: verified.code } },
      )
    }
    return { unit, restarted: true, active: true, state, command: argv, durationMs }
  },
})

async function run(
  ctx: ActionContext<Config>,
  argv: string[],
  timeoutMs: number | undefined,
): Promise<ExecResult> {
  const [command, ...args] = argv as [string, ...string[]]
  return ctx.exec(command, args, timeoutMs === undefined ? undefined : { timeoutMs })
}

/** The argv with every {unit} replaced (the name is already checked, and there is no shell). */
function fill(template: string[], unit: string): string[] {
  return template.map((part) => part.split(UNIT_PLACEHOLDER).join(unit))
}

function checkTemplates(config: Config): void {
  const invalid = (field: string, message: string) =>
    new PluginError(ErrorCodes.INVALID_CONFIG, `config.${field}: ${message}`, { data: { field } })
  if (config.verifyCommand !== undefined && config.command === undefined) {
    throw invalid(
      'verifyCommand',
      'is only used with config.command; with systemd the plugin runs systemctl is-active',
    )
  }
  if (config.sudo !== undefined && config.command !== undefined) {
    throw invalid('sudo', 'applies to systemd only; put "sudo", "-n" at the start of config.command instead')
  }
  for (const field of ['command', 'verifyCommand'] as const) {
    const template = config[field]
    if (template === undefined) continue
    if (template[0]!.includes(UNIT_PLACEHOLDER)) {
      throw invalid(
        `${field}[0]`,
        `the program must be fixed; ${UNIT_PLACEHOLDER} may appear only in its arguments`,
      )
    }
  }
  if (config.command !== undefined && !config.command.some((part) => part.includes(UNIT_PLACEHOLDER))) {
    throw invalid(
      'command',
      `must contain ${UNIT_PLACEHOLDER} where the unit name goes, e.g. ["docker", "restart", "{unit}"]`,
    )
  }
}

function describeExit(result: ExecResult): string {
  if (result.timedOut) return 'timed out'
  if (result.code === null) return `was killed by ${result.signal ?? 'a signal'}`
  return `exited with code ${result.code}`
}

function excerpt(result: ExecResult): string {
  const text = (result.stderr.trim() || result.stdout.trim()).slice(-500)
  return text === '' ? '' : `: ${text}`
}
