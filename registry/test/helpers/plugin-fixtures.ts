// Small plugin sources written into test repositories: real TypeScript importing
// @stavily/sdk, as a plugin author writes them.

export interface FixtureOptions {
  name?: string
  version?: string
  kind?: 'action' | 'sensor' | 'output'
  entry?: string
  sdk?: string
  permissions?: Record<string, unknown>
  /** Replaces the default source of the entry file. */
  source?: string
  dependencies?: Record<string, string>
  extraStavily?: Record<string, unknown>
}

export function pluginPackageJson(o: FixtureOptions = {}): string {
  return `${JSON.stringify(
    {
      name: o.name ?? '@acme/stavily-plugin-restart',
      version: o.version ?? '1.0.0',
      description: 'Restarts a service',
      type: 'module',
      stavily: {
        kind: o.kind ?? 'action',
        entry: o.entry ?? 'src/index.ts',
        sdk: o.sdk ?? '^1.0.0',
        permissions: o.permissions ?? { exec: ['systemctl'] },
        ...o.extraStavily,
      },
      dependencies: o.dependencies ?? { '@stavily/sdk': '^0.1.0' },
    },
    null,
    2,
  )}\n`
}

export const ACTION_SOURCE = `import { defineAction, Type } from '@stavily/sdk'
import { label } from './label.ts'

export default defineAction({
  input: Type.Object({ service: Type.String() }),
  output: Type.Object({ restarted: Type.Boolean(), label: Type.String() }),
  async run(ctx, input) {
    const r = await ctx.exec('systemctl', ['restart', input.service])
    return { restarted: r.code === 0, label: label(input.service) }
  },
})
`

export const LABEL_SOURCE = `export function label(service: string): string {
  return \`service \${service}\`
}
`

/** Files of a complete plugin at `prefix` (a monorepo sub-folder, or the root). */
export function pluginFiles(o: FixtureOptions = {}, prefix = ''): Record<string, string> {
  const entry = o.entry ?? 'src/index.ts'
  return {
    [`${prefix}package.json`]: pluginPackageJson(o),
    [`${prefix}${entry}`]: o.source ?? ACTION_SOURCE,
    [`${prefix}src/label.ts`]: LABEL_SOURCE,
  }
}
