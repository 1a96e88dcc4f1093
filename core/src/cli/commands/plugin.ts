import { itemsOf } from '../api-client.ts'
import { usageError } from '../cli-error.ts'
import { resolveTarget } from '../config-file.ts'
import { EXIT } from '../exit-codes.ts'
import { brief } from '../output.ts'
import { permissionLines } from '../permission-lines.ts'
import type { CommandSpec, GroupSpec } from '../spec.ts'
import { pluginDev } from './plugin-dev.ts'
import { pluginCredential, pluginTransfer } from './plugin-owner.ts'
import { pluginPublish } from './plugin-publish.ts'
import { warnStepsOutside } from './plugin-ranges.ts'
import { pluginRun } from './plugin-run.ts'

// `stavily plugin …`: publish from Git, search, enable per pool, verify a bundle.

interface Enabled {
  pool: string
  range: string | null
  version: string
}

interface PluginRow {
  name: string
  kind?: string
  latest?: string | null
  description?: string
  enabled?: Enabled[]
}

const list: CommandSpec = {
  words: ['plugin', 'list'],
  summary: 'search the registry and show where each plugin is enabled',
  args: [{ name: 'QUERY', required: false, description: 'words to search names and descriptions for' }],
  options: {
    permissions: {
      type: 'boolean',
      description:
        'also print what each plugin\'s latest version declares ("$granted": the agent\'s grant decides)',
    },
  },
  examples: ['stavily plugin list http --permissions'],
  async run({ args, opts, out, json, client }) {
    const api = await client()
    const body = await api.get('/plugins', { q: args[0] })
    if (json) {
      out.json(body)
      return EXIT.ok
    }
    const plugins = itemsOf<PluginRow>(body, 'plugins')
    if (plugins.length === 0) {
      out.note(
        args[0]
          ? `no plugin matches "${args[0]}"`
          : 'no plugins published yet: `stavily plugin publish --repo URL --ref REF`',
      )
      return EXIT.ok
    }
    out.table(
      ['NAME', 'KIND', 'LATEST', 'ENABLED (pool=version range)', 'DESCRIPTION'],
      plugins.map((p) => [
        p.name,
        p.kind ?? '-',
        p.latest ?? '-',
        (p.enabled ?? []).map((e) => `${e.pool}=${e.version}${e.range ? ` ${e.range}` : ''}`).join(', ') ||
          '-',
        brief(p.description ?? '', 50),
      ]),
    )
    if (opts.permissions === true) {
      for (const p of plugins) {
        if (!p.latest) continue
        const version = (await api.get(
          `/registry/plugins/${encodeURIComponent(p.name)}/versions/${encodeURIComponent(p.latest)}`,
        )) as { permissions: Parameters<typeof permissionLines>[0] }
        const lines = permissionLines(version.permissions)
        out.line()
        out.line(
          `${p.name}@${p.latest} may use${lines.length === 0 ? ' nothing but its log and state' : ':'}`,
        )
        for (const [label, text] of lines) out.line(`  ${label.padEnd(9)}${text}`)
      }
    }
    return EXIT.ok
  },
}

const enable: CommandSpec = {
  words: ['plugin', 'enable'],
  summary: 'enable a plugin in a pool at a version range (an exact version pins it)',
  args: [{ name: 'NAME', required: true, description: 'plugin name, e.g. @stavily/plugin-http-check' }],
  options: {
    pool: { type: 'string', value: 'POOL', description: 'the agent pool (required)' },
    range: {
      type: 'string',
      value: 'RANGE',
      description: 'semver range such as ^1.2.0, or an exact version to pin (required)',
    },
  },
  examples: ['stavily plugin enable @stavily/plugin-http-check --pool web --range ^1.0.0'],
  async run({ args, opts, out, json, client }) {
    if (typeof opts.pool !== 'string') throw usageError('stavily plugin enable: missing --pool POOL')
    if (typeof opts.range !== 'string')
      throw usageError(
        'stavily plugin enable: missing --range RANGE',
        'e.g. --range ^1.0.0, or an exact version to pin it',
      )
    const api = await client()
    const { body } = await api.request<Enabled & { name: string }>('POST', '/plugins/enable', {
      body: { name: args[0], pool: opts.pool, range: opts.range },
    })
    if (json) out.json(body)
    else out.line(`${body.name}@${body.version} enabled in pool ${body.pool} (range ${body.range})`)
    await warnStepsOutside(api, out, body.name, body.pool, body.version)
    return EXIT.ok
  },
}

const disable: CommandSpec = {
  words: ['plugin', 'disable'],
  summary: 'disable a plugin in a pool',
  args: [{ name: 'NAME', required: true, description: 'plugin name' }],
  options: { pool: { type: 'string', value: 'POOL', description: 'the agent pool (required)' } },
  async run({ args, opts, out, json, client }) {
    if (typeof opts.pool !== 'string') throw usageError('stavily plugin disable: missing --pool POOL')
    const { body } = await (await client()).request('POST', '/plugins/disable', {
      body: { name: args[0], pool: opts.pool },
    })
    if (json) out.json(body ?? { name: args[0], pool: opts.pool })
    else out.line(`${args[0]} disabled in pool ${opts.pool}`)
    return EXIT.ok
  },
}

const verify: CommandSpec = {
  words: ['plugin', 'verify'],
  summary: "verify a bundle (file or name@version) against the registry's signed TUF metadata",
  args: [{ name: 'FILE|NAME@VERSION', required: true, description: 'a bundle file, or a published version' }],
  options: {},
  passThrough: true,
  async run({ io, args }) {
    // The registry's own command; its registry URL defaults to the logged-in orchestrator's.
    const { runPluginVerify } = await import('@stavily/registry/client')
    const env = { ...io.env }
    if (!env.STAVILY_REGISTRY_URL) {
      const target = await resolveTarget(io.env, undefined)
      env.STAVILY_REGISTRY_URL = `${target.url}/api/v1/registry`
    }
    return runPluginVerify(args, { stdout: io.stdout, stderr: io.stderr, env })
  },
}

export const pluginGroup: GroupSpec = {
  name: 'plugin',
  summary: 'plugins: publish from Git, search, enable per pool, verify',
  commands: [
    pluginPublish,
    list,
    enable,
    disable,
    verify,
    pluginRun,
    pluginDev,
    pluginTransfer,
    pluginCredential,
  ],
}
