// `npm run bench -- sandbox`: the sandbox's load, invoke, throughput, memory and swap
// figures against the targets, with an in-process node:vm call as the baseline.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createContext, Script } from 'node:vm'
import { type BenchContext, type BenchReport, nowMs, percentile, round, sample } from '../../bench/lib.ts'
import { createSandbox } from '../src/index.ts'
import { buildFixture, manifest } from '../test/helpers/build-fixture.ts'

/** A ~50 KB bundle of the shape the registry produces: one IIFE defining the plugin. */
function syntheticBundle(targetBytes = 50 * 1024): string {
  const parts: string[] = []
  let size = 0
  for (let i = 0; size < targetBytes; i++) {
    const fn = `  helper${i}: function (value) { const parts = String(value).split(','); return parts.map((p, j) => p.trim() + ':' + (j + ${i})).join(';') },\n`
    parts.push(fn)
    size += fn.length
  }
  return `var __stavilyPlugin = (() => {
  const helpers = {
${parts.join('')}  };
  return { default: {
    kind: 'action', sdkApiVersion: '1.0.0',
    schemas: { input: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] }, output: { type: 'object' } },
    run(ctx, input) { return { n: input.n + 1, helpers: Object.keys(helpers).length > 0 } },
  } };
})();\n`
}

let seq = 0
const call = () => {
  seq++
  return { invocationId: `b-${seq}`, idempotencyKey: `b-${seq}`, input: { n: seq } }
}

export default async function bench(ctx: BenchContext): Promise<BenchReport> {
  const q = ctx.quick
  const synthetic = syntheticBundle()
  const sdkTrivial = await buildFixture('trivial')
  const sandbox = await createSandbox({ limits: { concurrency: 4096 } })
  try {
    // Cold load: bundle → ready to invoke, through the host process.
    ctx.progress('cold load')
    const loads: number[] = []
    const sdkLoads: number[] = []
    const uncached: number[] = []
    const inHost: number[] = []
    for (let i = 0; i < (q ? 15 : 60); i++) {
      // Loads are rare events in an agent: each starts on an idle host (spare isolate ready).
      await new Promise((r) => setTimeout(r, 30))
      let t = nowMs()
      inHost.push((await sandbox.load({ manifest: manifest(`cold-${i}`), bundle: synthetic })).loadMs)
      loads.push(nowMs() - t)
      t = nowMs()
      await sandbox.load({ manifest: manifest(`cold-sdk-${i}`), bundle: sdkTrivial })
      sdkLoads.push(nowMs() - t)
      await new Promise((r) => setTimeout(r, 30))
      // A bundle this host has never compiled: no V8 code cache.
      t = nowMs()
      await sandbox.load({
        manifest: manifest(`cold-new-${i}`),
        bundle: `${synthetic}// build ${i} ${Date.now()}\n`,
      })
      uncached.push(nowMs() - t)
      await sandbox.unload(`cold-${i}`)
      await sandbox.unload(`cold-sdk-${i}`)
      await sandbox.unload(`cold-new-${i}`)
    }

    // Warm invoke, one call in flight.
    ctx.progress('invoke latency')
    await sandbox.load({ manifest: manifest('trivial'), bundle: sdkTrivial })
    // The first calls run before V8 has optimized the call path in either process (the p50
    // of 250-call windows falls from ~120 to ~50 µs over the first ~3,000 calls on a 2-core
    // machine): reported apart, then warmed up well past that before the figure is taken.
    const firstCalls = await sample(() => sandbox.invoke('trivial', call()), { iterations: 1_000, warmup: 0 })
    const invokes = await sample(() => sandbox.invoke('trivial', call()), {
      iterations: q ? 2_000 : 20_000,
      warmup: q ? 3_000 : 5_000,
    })

    // Baseline: the same bundle and call through node:vm in this process.
    const vmContext = createContext({ TextEncoder, TextDecoder })
    new Script(sdkTrivial).runInContext(vmContext)
    const definition = (
      vmContext as { __stavilyPlugin: { default: { run(c: unknown, i: unknown): unknown } } }
    ).__stavilyPlugin.default
    const fakeCtx = Object.freeze({ config: {}, invocationId: 'x', idempotencyKey: 'x', deadline: 0 })
    const vmCalls = await sample(
      async () => {
        const input = JSON.parse(JSON.stringify(call().input))
        JSON.stringify(await definition.run(fakeCtx, input))
      },
      { iterations: q ? 2_000 : 20_000 },
    )

    // Baseline: the bare IPC round trip to a child process with the same serialization (JSON).
    const echo = fork(fileURLToPath(new URL('./ipc-echo.cjs', import.meta.url)), [], {
      serialization: 'json',
    })
    await new Promise((r) => echo.once('spawn', r))
    const ipc = await sample(
      () =>
        new Promise<void>((resolve) => {
          echo.once('message', () => resolve())
          echo.send([{ t: 'invoke', req: call() }])
        }),
      { iterations: q ? 2_000 : 20_000 },
    )
    echo.disconnect()

    // Throughput: many trivial calls in flight (batched over IPC by the supervisor).
    ctx.progress('throughput')
    const window = 512
    const durationMs = q ? 1_000 : 5_000
    let done = 0
    const started = nowMs()
    await Promise.all(
      Array.from({ length: window }, async () => {
        while (nowMs() - started < durationMs) {
          await sandbox.invoke('trivial', call())
          done++
        }
      }),
    )
    const perSecond = done / ((nowMs() - started) / 1000)

    // Idle memory: RSS of both processes before and after 50 more idle plugins.
    ctx.progress('idle memory')
    const idleCount = 50
    await new Promise((r) => setTimeout(r, 200))
    const before = (await sandbox.stats()).hostRssBytes + process.memoryUsage().rss
    for (let i = 0; i < idleCount; i++)
      await sandbox.load({ manifest: manifest(`idle-${i}`), bundle: synthetic })
    await new Promise((r) => setTimeout(r, 200))
    const after = (await sandbox.stats()).hostRssBytes + process.memoryUsage().rss
    const idleMb = (after - before) / idleCount / (1024 * 1024)
    const sdkBefore = after
    for (let i = 0; i < idleCount; i++)
      await sandbox.load({ manifest: manifest(`idle-sdk-${i}`), bundle: sdkTrivial })
    await new Promise((r) => setTimeout(r, 200))
    const sdkIdleMb =
      ((await sandbox.stats()).hostRssBytes + process.memoryUsage().rss - sdkBefore) /
      idleCount /
      (1024 * 1024)
    for (let i = 0; i < idleCount; i++) {
      await sandbox.unload(`idle-${i}`)
      await sandbox.unload(`idle-sdk-${i}`)
    }

    // Swap: from swap() to N+1 serving.
    ctx.progress('swap')
    const swaps: number[] = []
    for (let i = 0; i < (q ? 10 : 40); i++) {
      const t = nowMs()
      await sandbox.swap({ manifest: manifest('trivial', { version: `1.0.${i + 1}` }), bundle: synthetic })
      swaps.push(nowMs() - t)
      await sandbox.invoke('trivial', call())
    }

    const us = (ms: number) => ms * 1000
    return {
      metrics: {
        cold_load_ms_p50: { value: round(percentile(loads, 50)), unit: 'ms', target: 5, better: 'lower' },
        invoke_us_p50: {
          value: round(us(percentile(invokes, 50)), 1),
          unit: 'us',
          target: 100,
          better: 'lower',
          baseline: 'node:vm call in-process',
          baseline_value: round(us(percentile(vmCalls, 50)), 2),
        },
        invoke_vm_baseline_us_p50: {
          value: round(us(percentile(vmCalls, 50)), 2),
          unit: 'us',
          better: 'lower',
        },
        invoke_per_s: { value: Math.round(perSecond), unit: 'calls/s', target: 20_000, better: 'higher' },
        idle_plugin_rss_mb: { value: round(idleMb, 2), unit: 'MB', target: 1.5, better: 'lower' },
        swap_ms: { value: round(percentile(swaps, 50)), unit: 'ms', target: 20, better: 'lower' },
      },
      info: {
        cold_load_ms_p99: round(percentile(loads, 99)),
        cold_load_uncached_ms_p50: round(percentile(uncached, 50)),
        cold_load_in_host_ms_p50: round(percentile(inHost, 50)),
        ipc_echo_roundtrip_us_p50: round(us(percentile(ipc, 50)), 1),
        cold_load_sdk_bundle_ms_p50: round(percentile(sdkLoads, 50)),
        synthetic_bundle_bytes: synthetic.length,
        sdk_trivial_bundle_bytes: sdkTrivial.length,
        invoke_us_p99: round(us(percentile(invokes, 99)), 1),
        invoke_first_1000_calls_us_p50: round(us(percentile(firstCalls, 50)), 1),
        idle_plugin_rss_mb_sdk_bundle: round(sdkIdleMb, 2),
        swap_ms_p99: round(percentile(swaps, 99)),
        throughput_window: window,
        isolated_vm: (await sandbox.stats()).isolatedVm ?? 'unknown',
      },
    }
  } finally {
    await sandbox.close()
  }
}
