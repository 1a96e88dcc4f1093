import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import vm from 'node:vm'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { TEXT_ENCODER_SHIM, TEXT_ENCODER_SHIM_END } from '../src/manifest/index.ts'
import { bundle, evaluateInEmptyRealm, pluginExports, sdkRoot } from './bundle.ts'

// Host globals (Node, Web) that the sandbox does not have; ECMAScript's own are fine.
const HOST_GLOBALS = new Set([
  'process',
  'require',
  'module',
  'exports',
  'Buffer',
  'global',
  'globalThis',
  'window',
  'self',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'queueMicrotask',
  'console',
  'fetch',
  'URL',
  'URLSearchParams',
  'TextEncoder',
  'TextDecoder',
  'structuredClone',
  'crypto',
  'performance',
  'navigator',
  'AbortController',
  'AbortSignal',
  'Headers',
  'Request',
  'Response',
])

/** Identifiers in `code` that name a host global (not a property, not a declaration, not a type). */
function hostGlobalsUsed(file: string, code: string): string[] {
  const sf = ts.createSourceFile(file, code, ts.ScriptTarget.ES2022, true)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isTypeNode(node) || ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return
    if (ts.isIdentifier(node) && HOST_GLOBALS.has(node.text)) {
      const parent = node.parent
      const isProperty =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        (ts.isMethodDeclaration(parent) && parent.name === node) ||
        (ts.isPropertySignature(parent) && parent.name === node)
      if (!isProperty)
        found.push(`${file}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${node.text}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(sf)
  return found
}

// The globals a fresh V8 realm has: ECMAScript's, plus the few V8 adds. Anything else a bundle
// leaves behind on the global would be a leak of host assumptions.
const realmGlobals = new Set(Object.getOwnPropertyNames(vm.runInContext('globalThis', vm.createContext())))

describe('the SDK runtime is sandbox-safe', () => {
  it('bundles with the plugin options and imports no Node built-in', async () => {
    const { text, inputs } = await bundle('src/index.ts')
    expect(inputs.some((input) => input.startsWith('node:'))).toBe(false)
    expect(inputs).toContain('src/index.ts')
    // No CommonJS loader and no Node-only globals in what the SDK itself contributes.
    expect(text).not.toMatch(/\brequire\(/)
    expect(text).not.toMatch(/\bprocess\.(env|nextTick|version)/)
  })

  it('uses no host global in its own code (only ECMAScript)', async () => {
    const { inputs } = await bundle('src/index.ts')
    const own = inputs.filter((input) => input.startsWith('src/'))
    expect(own.length).toBeGreaterThan(5)
    const used = own.flatMap((file) => hostGlobalsUsed(file, readFileSync(join(sdkRoot, file), 'utf8')))
    expect(used).toEqual([])
    // The check itself catches what it should.
    expect(
      hostGlobalsUsed(
        'x.ts',
        'const t = setTimeout(() => process.exit(1), 5); ctx.fetch(u); ({ console: 1 })',
      ),
    ).toEqual(['x.ts:1 setTimeout', 'x.ts:1 process'])
  })

  it('fails to bundle a plugin that imports Node built-ins, listing every one of them', async () => {
    const error = await bundle('test/fixtures/imports-node-builtins.ts').then(
      () => undefined,
      (e: { errors: { text: string }[] }) => e,
    )
    expect(error).toBeDefined()
    expect(error!.errors).toHaveLength(1)
    const text = error!.errors[0]!.text
    expect(text).toContain('plugin imports Node built-ins')
    for (const specifier of ['node:child_process', 'node:fs', 'path']) {
      expect(text).toContain(`${specifier} (imported by test/fixtures/imports-node-builtins.ts)`)
    }
  })

  it('defines __stavilyPlugin in an empty ECMAScript realm, and its handler and error helpers work there', async () => {
    const { text } = await bundle('test/fixtures/bundle-entry.ts')
    const realm = evaluateInEmptyRealm(text)
    const extra = Object.getOwnPropertyNames(realm).filter((name) => !realmGlobals.has(name))
    expect(extra).toEqual(['__stavilyPlugin'])

    const exports = pluginExports(realm)
    const plugin = exports.default as {
      kind: string
      sdkApiVersion: string
      schemas: Record<string, unknown>
      run: (ctx: unknown, input: unknown) => Promise<unknown>
    }
    expect(plugin.kind).toBe('action')
    expect(plugin.sdkApiVersion).toBe('1.0.0')
    expect(Object.isFrozen(plugin)).toBe(true)
    // Schemas leave the sandbox as JSON copies.
    expect(JSON.parse(JSON.stringify(plugin.schemas.input))).toMatchObject({
      type: 'object',
      required: ['service'],
    })

    const ctx = {
      config: { environment: 'test' },
      secrets: { get: async () => 'token' },
      fetch: async () => ({ status: 200, ok: true, url: '', headers: {}, body: '{}', json: () => ({}) }),
      exec: async () => ({ code: 0, signal: null, stdout: '', stderr: '', timedOut: false }),
      state: { get: async () => undefined, set: async () => {}, delete: async () => {} },
      fs: { writeText: async () => {} },
      log: { info: () => {} },
    }
    await expect(plugin.run(ctx, { service: 'nginx' })).resolves.toEqual({
      restarted: true,
      previousRestarts: 0,
    })

    // A throw inside the realm serialises there to plain JSON (no stack), by shape not instanceof.
    const serialize = exports.serializeError as (e: unknown) => unknown
    const thrown = vm.runInContext('new RangeError("too far")', realm as vm.Context)
    expect(serialize(thrown)).toEqual({
      code: 'STAVILY_ERR_PLUGIN_FAILED',
      message: 'RangeError: too far',
      retryable: false,
    })
    const PluginErrorInRealm = exports.PluginError as new (c: string, m: string, o: object) => Error
    const inner = new PluginErrorInRealm('ACME_DOWN', 'down', { retryable: true, data: { n: 1 } })
    expect(serialize(inner)).toEqual({ code: 'ACME_DOWN', message: 'down', retryable: true, data: { n: 1 } })
  })

  it('builds the same bytes twice', async () => {
    const first = await bundle('test/fixtures/bundle-entry.ts')
    const second = await bundle('test/fixtures/bundle-entry.ts')
    expect(second.text).toBe(first.text)
    expect(first.text).not.toContain('/work/')
  })
})

describe('TEXT_ENCODER_SHIM', () => {
  it('encodes exactly like the WHATWG TextEncoder, including astral and lone surrogates', () => {
    const realm = vm.createContext()
    vm.runInContext(
      `${TEXT_ENCODER_SHIM}\nvar encode = (s) => Array.from(new TextEncoder().encode(s))\n${TEXT_ENCODER_SHIM_END}`,
      realm,
    )
    // The encoder is bound inside the block only: the realm's global does not gain one.
    expect(vm.runInContext('typeof TextEncoder', realm)).toBe('undefined')
    const encode = vm.runInContext('encode', realm) as (s: string) => number[]
    for (const sample of [
      '',
      'ascii',
      'é',
      '€ 10',
      '日本語',
      '😀 emoji',
      '\uD800 lone',
      'tail \uDBFF',
      '\u007f\u0080\u07ff\u0800\uffff',
    ]) {
      expect(encode(sample)).toEqual(Array.from(new TextEncoder().encode(sample)))
    }
  })

  it('keeps an existing TextEncoder', () => {
    class HostEncoder {}
    const realm = vm.createContext({ TextEncoder: HostEncoder })
    vm.runInContext(`${TEXT_ENCODER_SHIM}\nvar seen = TextEncoder\n${TEXT_ENCODER_SHIM_END}`, realm)
    expect(vm.runInContext('seen', realm)).toBe(HostEncoder)
  })
})
