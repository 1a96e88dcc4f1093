import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// A real Git repository holding a small plugin, served as a file:// URL, that the
// orchestrator's registry clones, builds and signs. The plugin has no dependencies (its
// definition is written out by hand), so publishing needs no npm install.

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Stavily Test',
  GIT_AUTHOR_EMAIL: 'test@stavily.invalid',
  GIT_COMMITTER_NAME: 'Stavily Test',
  GIT_COMMITTER_EMAIL: 'test@stavily.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
}

export class PluginRepo {
  readonly root = mkdtempSync(join(tmpdir(), 'stavily-api-plugin-'))
  readonly work = join(this.root, 'work')
  readonly bare = join(this.root, 'plugin.git')

  constructor(readonly name: string) {
    mkdirSync(join(this.work, 'src'), { recursive: true })
    this.git(['init', '--quiet', '--initial-branch=main'])
    execFileSync('git', ['init', '--quiet', '--bare', this.bare], { env: GIT_ENV })
    this.git(['remote', 'add', 'origin', this.bare])
  }

  get url(): string {
    return `file://${this.bare}`
  }

  /** Commits version `version` of the plugin and tags it `v<version>`. */
  release(version: string, kind: 'action' | 'output' = 'action'): string {
    writeFileSync(
      join(this.work, 'package.json'),
      JSON.stringify(
        {
          name: this.name,
          version,
          description: 'A test plugin',
          type: 'module',
          stavily: { kind, entry: 'src/index.ts', sdk: '^1.0.0', permissions: { secrets: ['SLACK_TOKEN'] } },
        },
        null,
        2,
      ),
    )
    writeFileSync(
      join(this.work, 'src/index.ts'),
      `export default {
  kind: '${kind}',
  sdkApiVersion: '1.0.0',
  schemas: {},
  async ${kind === 'action' ? 'run' : 'send'}(_ctx: unknown, input: unknown) {
    return { echoed: input, version: '${version}' }
  },
}
`,
    )
    this.git(['add', '-A'])
    this.git(['commit', '--quiet', '-m', `release ${version}`])
    this.git(['tag', `v${version}`])
    this.git(['push', '--quiet', '--all', 'origin'])
    this.git(['push', '--quiet', '--tags', 'origin'])
    return `v${version}`
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true })
  }

  private git(args: string[]): string {
    return execFileSync('git', args, { cwd: this.work, env: GIT_ENV, encoding: 'utf8' }).trim()
  }
}
