// What the SDK's host-side checks cost per call, beside the raw operation each one wraps
// (measured in the same run), and what a minimal plugin bundle weighs and costs to load:
//   guard.net(url) vs new URL(url); assertValid(input) vs typebox Value.Check;
//   serializeError vs JSON.stringify of the same wire object; validateManifest per call;
//   a minimal action's bundle size, and its evaluation in an empty node:vm realm.
import vm from 'node:vm'
import { build } from 'esbuild'
import { Type } from 'typebox'
import { Value } from 'typebox/value'
import { type BenchContext, type BenchReport, percentile, round, sample } from '../../bench/lib.ts'
import { PluginError, serializeError } from '../src/index.ts'
import {
  assertValid,
  createPermissionGuard,
  nodeBuiltinsGuard,
  PLUGIN_BUNDLE_OPTIONS,
  validateManifest,
} from '../src/manifest/index.ts'
import { restartManifest } from '../test/fixtures/sample-plugins.ts'

const sdkRoot = new URL('..', import.meta.url).pathname

/** Median and p99 of one operation, in microseconds, measured over batches of `batch` calls. */
async function perCall(fn: () => unknown, batch: number, iterations: number) {
  const samples = await sample(
    () => {
      for (let i = 0; i < batch; i++) fn()
    },
    { iterations },
  )
  const us = samples.map((ms) => (ms * 1000) / batch)
  return { p50: percentile(us, 50), p99: percentile(us, 99) }
}

export default async function sdkChecks(ctx: BenchContext): Promise<BenchReport> {
  const iterations = ctx.quick ? 30 : 300
  const batch = 200
  const manifest = validateManifest(restartManifest)
  if (!manifest.ok) throw new Error('fixture manifest is invalid')
  const guard = createPermissionGuard(manifest.manifest.permissions, manifest.manifest.permissions)
  const url = 'https://hooks.slack.com/services/T000/B000/XXXX?x=1'

  ctx.progress('permission guard')
  const net = await perCall(() => guard.net(url), batch, iterations)
  const urlParse = await perCall(() => new URL(url), batch, iterations)

  ctx.progress('schema checks')
  const schema = Type.Object({
    service: Type.String({ minLength: 1 }),
    replicas: Type.Integer({ minimum: 0 }),
    labels: Type.Record(Type.String(), Type.String()),
    steps: Type.Array(Type.Object({ name: Type.String(), timeoutMs: Type.Optional(Type.Number()) })),
  })
  const input = {
    service: 'api',
    replicas: 3,
    labels: { team: 'ops' },
    steps: [{ name: 'drain' }, { name: 'restart' }],
  }
  // Both warmed up first, so neither pays for the other's JIT and caches.
  for (let i = 0; i < 5000; i++) {
    Value.Check(schema, input)
    assertValid('input', schema, input)
  }
  const rawCheck = await perCall(() => Value.Check(schema, input), batch, iterations)
  const valid = await perCall(() => assertValid('input', schema, input), batch, iterations)

  ctx.progress('errors and manifests')
  const error = new PluginError('ACME_DOWN', 'the API is down', {
    retryable: true,
    data: { status: 503, hosts: ['a', 'b'] },
  })
  const wire = serializeError(error)
  const serialize = await perCall(() => serializeError(error), batch, iterations)
  const stringify = await perCall(() => JSON.stringify(wire), batch, iterations)
  const manifestCheck = await perCall(() => validateManifest(restartManifest), 50, iterations)

  ctx.progress('plugin bundle')
  const bundled = await build({
    ...PLUGIN_BUNDLE_OPTIONS,
    entryPoints: ['test/fixtures/bundle-entry.ts'],
    absWorkingDir: sdkRoot,
    plugins: [nodeBuiltinsGuard()],
  })
  const text = bundled.outputFiles[0]!.text
  const script = new vm.Script(text)
  const empty = new vm.Script('var __stavilyPlugin = (() => ({ default: {} }))();')
  const loadRuns = ctx.quick ? 10 : 60
  const load = await sample(() => script.runInContext(vm.createContext()), { iterations: loadRuns })
  const emptyLoad = await sample(() => empty.runInContext(vm.createContext()), { iterations: loadRuns })

  return {
    metrics: {
      guard_net_us_p50: {
        value: round(net.p50),
        unit: 'us',
        better: 'lower',
        baseline: 'new URL(url)',
        baseline_value: urlParse.p50,
      },
      guard_net_us_p99: { value: round(net.p99), unit: 'us', better: 'lower' },
      assert_valid_input_us_p50: {
        value: round(valid.p50),
        unit: 'us',
        better: 'lower',
        baseline: 'typebox Value.Check',
        baseline_value: rawCheck.p50,
      },
      serialize_error_us_p50: {
        value: round(serialize.p50),
        unit: 'us',
        better: 'lower',
        baseline: 'JSON.stringify(wire)',
        baseline_value: stringify.p50,
      },
      validate_manifest_us_p50: { value: round(manifestCheck.p50), unit: 'us', better: 'lower' },
      plugin_bundle_kb: { value: round(text.length / 1024, 1), unit: 'KiB', better: 'lower' },
      plugin_bundle_load_ms_p50: {
        value: round(percentile(load, 50)),
        unit: 'ms',
        better: 'lower',
        baseline: 'empty IIFE in a fresh vm context',
        baseline_value: percentile(emptyLoad, 50),
      },
    },
    info: { batch, iterations },
  }
}
