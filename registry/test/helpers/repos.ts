import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

// Bare repositories made by the test: a working copy under `work/NAME` pushes to
// `bare/NAME.git`, which the git daemon, the HTTP server and file:// URLs serve.

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Stavily Test',
  GIT_AUTHOR_EMAIL: 'test@stavily.invalid',
  GIT_COMMITTER_NAME: 'Stavily Test',
  GIT_COMMITTER_EMAIL: 'test@stavily.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
}

export class TestRepo {
  readonly work: string
  readonly bare: string

  constructor(
    root: string,
    readonly name: string,
  ) {
    this.work = join(root, 'work', name)
    this.bare = join(root, 'bare', `${name}.git`)
    mkdirSync(this.work, { recursive: true })
    mkdirSync(dirname(this.bare), { recursive: true })
    this.git(['init', '--quiet', '--initial-branch=main'])
    execFileSync('git', ['init', '--quiet', '--bare', this.bare], { env: GIT_ENV })
    this.git(['remote', 'add', 'origin', this.bare])
  }

  git(args: string[]): string {
    return execFileSync('git', args, { cwd: this.work, env: GIT_ENV, encoding: 'utf8' }).trim()
  }

  write(files: Record<string, string>): this {
    for (const [path, content] of Object.entries(files)) {
      const file = join(this.work, path)
      mkdirSync(dirname(file), { recursive: true })
      writeFileSync(file, content)
    }
    return this
  }

  /** Commits everything and pushes all branches and tags; returns the commit SHA. */
  commit(message = 'change'): string {
    this.git(['add', '-A'])
    this.git(['commit', '--quiet', '--allow-empty', '-m', message])
    this.push()
    return this.git(['rev-parse', 'HEAD'])
  }

  tag(name: string, annotated = false): this {
    this.git(annotated ? ['tag', '-a', name, '-m', name] : ['tag', name])
    this.push()
    return this
  }

  branch(name: string): this {
    this.git(['checkout', '--quiet', '-B', name])
    return this
  }

  push(): void {
    this.git(['push', '--quiet', '--all', 'origin'])
    this.git(['push', '--quiet', '--tags', 'origin'])
  }

  get fileUrl(): string {
    return `file://${this.bare}`
  }
}
