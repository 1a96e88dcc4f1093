// deploy/: the Dockerfiles and systemd units checked without a Docker engine (none on the
// CI machines): each Dockerfile is parsed and held to what it promises (multi-stage, every
// COPY source present in the build context, stages referenced before use, packs of real
// workspace packages, a non-root USER, a HEALTHCHECK whose command is run here against a
// real listener, the agent's --no-node-snapshot), and the unit files pass
// `systemd-analyze verify` with no warning (.ci/run installs systemd for it).
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../../test/temp-dir.ts'
import { SOURCE_ROOT } from '../src/source.ts'

const DEPLOY = join(SOURCE_ROOT, 'deploy')

interface Instruction {
  op: string
  args: string
  line: number
}

/** Dockerfile instructions, continuation lines joined, comments and blank lines dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = []
  let pending = ''
  let start = 0
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim()
    if (pending === '' && (line === '' || line.startsWith('#'))) return
    if (pending === '') start = i + 1
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      return
    }
    const full = `${pending}${line}`
    pending = ''
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(full)
    if (!m) throw new Error(`line ${start}: not an instruction: ${full}`)
    out.push({ op: m[1]!.toUpperCase(), args: m[2]!, line: start })
  })
  return out
}

/** The exec form's arguments (`["a", "b"]`). */
function execForm(args: string): string[] {
  const json = args.replace(/^CMD\s+/, '')
  return JSON.parse(json) as string[]
}

function workspacePackageNames(): Set<string> {
  const root = JSON.parse(readFileSync(join(SOURCE_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }
  const names = new Set<string>()
  for (const w of root.workspaces) {
    if (w.includes('*')) continue
    const file = join(SOURCE_ROOT, w, 'package.json')
    if (existsSync(file)) names.add(JSON.parse(readFileSync(file, 'utf8')).name)
  }
  return names
}

/** Runs a HEALTHCHECK's exec-form command; its exit status (async: the server is in this process). */
function runHealthcheck(cmd: string[], env: Record<string, string>): Promise<number | null> {
  const [program, ...args] = cmd
  const child = spawn(program === 'node' ? process.execPath : program!, args, {
    env: { ...process.env, ...env },
    stdio: 'ignore',
    timeout: 20_000,
  })
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

describe.each([
  {
    file: 'orchestrator.Dockerfile',
    packs: '@stavily/core',
    healthEnv: (port: number) => ({ STAVILY_PORT: String(port) }),
  },
  {
    file: 'agent.Dockerfile',
    packs: '@stavily/agent',
    healthEnv: (port: number) => ({ STAVILY_HEALTH_LISTEN: `127.0.0.1:${port}` }),
  },
])('deploy/$file', ({ file, packs, healthEnv }) => {
  const text = readFileSync(join(DEPLOY, file), 'utf8')
  const steps = parseDockerfile(text)
  const stages = steps.filter((s) => s.op === 'FROM')
  const lastFrom = steps.lastIndexOf(stages.at(-1)!)
  const runtime = steps.slice(lastFrom)

  it('is multi-stage, copies only what exists, from stages defined before, and packs real packages', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    const seen = new Set<string>()
    for (const s of steps) {
      if (s.op === 'FROM') {
        const name = /\bAS\s+(\S+)/i.exec(s.args)?.[1]
        if (name) seen.add(name)
      }
      if (s.op !== 'COPY' && s.op !== 'ADD') continue
      const parts = s.args.split(/\s+/)
      const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length)
      const paths = parts.filter((p) => !p.startsWith('--'))
      if (from) {
        expect(seen.has(from), `line ${s.line}: COPY --from=${from} before that stage`).toBe(true)
        continue
      }
      for (const src of paths.slice(0, -1))
        expect(existsSync(join(SOURCE_ROOT, src)), `line ${s.line}: ${src} is not in the build context`).toBe(
          true,
        )
    }
    const names = workspacePackageNames()
    const packed = [...text.matchAll(/-w (\S+)/g)].map((m) => m[1]!)
    expect(packed).toContain(packs)
    for (const name of packed) expect(names.has(name), `${name} is not a workspace package`).toBe(true)
    // Its own .dockerignore keeps the checkout's node_modules and builds out of the context.
    const ignore = readFileSync(join(DEPLOY, `${file}.dockerignore`), 'utf8')
    expect(ignore).toMatch(/^\*\*\/node_modules$/m)
  })

  it('runs as a non-root user', () => {
    const users = runtime.filter((s) => s.op === 'USER').map((s) => s.args.split(':')[0])
    expect(users.length).toBeGreaterThan(0)
    expect(['root', '0']).not.toContain(users.at(-1))
  })

  it('has a HEALTHCHECK that passes against a live /healthz and fails when nothing answers', async () => {
    const hc = runtime.find((s) => s.op === 'HEALTHCHECK')
    expect(hc, 'HEALTHCHECK in the last stage').toBeDefined()
    const cmd = execForm(hc!.args.slice(hc!.args.indexOf('CMD')))
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? 200 : 404).end('{"status":"ok"}')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    try {
      expect(await runHealthcheck(cmd, healthEnv(port))).toBe(0)
    } finally {
      await new Promise((r) => server.close(r))
    }
    expect(await runHealthcheck(cmd, healthEnv(port))).toBe(1)
  })

  it('starts its process as the package installs it', () => {
    const entry = execForm(runtime.find((s) => s.op === 'ENTRYPOINT')!.args)
    if (file === 'agent.Dockerfile') {
      expect(entry).toContain('--no-node-snapshot')
      const pkg = JSON.parse(readFileSync(join(SOURCE_ROOT, 'agent-runtime/package.json'), 'utf8'))
      expect(entry.at(-1)).toBe(
        `/opt/stavily/node_modules/@stavily/agent/${pkg.bin['stavily-agent'].replace(/^\.\//, '')}`,
      )
    } else {
      const pkg = JSON.parse(readFileSync(join(SOURCE_ROOT, 'core/package.json'), 'utf8'))
      expect(Object.keys(pkg.bin)).toContain(entry.at(-1))
    }
  })
})

describe('deploy/systemd', () => {
  it.each(['stavily-agent.service', 'stavily-orchestrator.service'])(
    '%s passes systemd-analyze verify without a warning',
    (unit) => {
      const text = readFileSync(join(DEPLOY, 'systemd', unit), 'utf8')
      for (const key of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes'])
        expect(text).toContain(key)
      // verify checks that ExecStart's program exists: the installed bin, stood in for by node.
      const bin = /^ExecStart=(\S+)/m.exec(text)![1]!
      expect(['/usr/bin/stavily-agent', '/usr/bin/stavily']).toContain(bin)
      const dir = tempDir('units')
      writeFileSync(join(dir, unit), text.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`))
      const r = spawnSync('systemd-analyze', ['verify', join(dir, unit)], { encoding: 'utf8' })
      if (r.error) throw new Error(`systemd-analyze: ${r.error.message} (install the systemd package)`)
      expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, output: '' })
    },
  )

  it('a misspelt setting is what verify reports', () => {
    const dir = tempDir('units')
    copyFileSync(join(DEPLOY, 'systemd/stavily-agent.service'), join(dir, 'x.service'))
    const text = readFileSync(join(dir, 'x.service'), 'utf8')
      .replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`)
      .replace('KillSignal=', 'KillSignl=')
    writeFileSync(join(dir, 'x.service'), text)
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'x.service')], { encoding: 'utf8' })
    expect(r.stderr).toMatch(/Unknown key.*KillSignl/)
  })
})
