// Limits and defaults of the sandbox, each with the reason for its value. Operators
// override the per-plugin limits at load (`limits`); the rest through createSandbox options.

/** Per-plugin limits; every one of them can be overridden by the operator at load. */
export interface PluginLimits {
  /** V8 heap of the plugin's isolate, MB. */
  memoryMb: number
  /** CPU time one call may use inside the isolate, ms (all of its slices together). */
  cpuMs: number
  /** Wall time of one call, ms, including time spent waiting for fetch/exec/state. */
  wallMs: number
  /** JSON size of one call's input and config together, bytes. */
  inputBytes: number
  /** JSON size of one call's output, bytes. */
  outputBytes: number
  /** Log lines one call may write. */
  logLines: number
  /** Total size of one call's log messages and fields, bytes. */
  logBytes: number
  /** Events one sensor call may emit. */
  events: number
  /** JSON size of one event, bytes. */
  eventBytes: number
  /** JSON size of the events one sensor call emits together (a watch: per window), bytes. */
  eventsBytes: number
  /** Calls of one plugin in flight at once. */
  concurrency: number
  /** Body size of one fetch response, bytes. */
  fetchResponseBytes: number
  /** Wall time of one fetch (all redirects), ms. */
  fetchTimeoutMs: number
  /** Redirects one fetch follows. */
  fetchRedirects: number
  /** Wall time of one exec before the child is killed, ms. */
  execTimeoutMs: number
  /** stdout and stderr each kept from one exec, bytes. */
  execOutputBytes: number
  /** Size of one fs.readText, bytes. */
  fsReadBytes: number
  /** JSON size of one state value, bytes. */
  stateValueBytes: number
  /** JSON size of all of a plugin's state, bytes. */
  stateTotalBytes: number
  /** JSON size of the arguments of one capability call (a fetch body, a file to write), characters. */
  argumentBytes: number
  /** exec, fetch and fs operations one call may have in flight at once. */
  operationsPerCall: number
  /** exec, fetch and fs operations all calls of one plugin may have in flight at once. */
  operationsPerPlugin: number
  /**
   * A watch runs for hours, so its CPU (cpuMs) and its events (events) are budgeted per
   * window of this many ms instead of per call.
   */
  watchWindowMs: number
  /** Wall time of one ctx.sql query (also its server-side statement_timeout), and of connecting, ms. */
  sqlTimeoutMs: number
  /** JSON size of the rows one ctx.sql query returns, bytes. */
  sqlResultBytes: number
  /** Wall time of one ctx.smtp.send (connect, TLS, AUTH, delivery), ms. */
  smtpTimeoutMs: number
  /** Characters of text and html in one ctx.smtp.send message. */
  smtpMessageBytes: number
  /** Items a ctx.sql.listen or ctx.fs.watch stream buffers between next() calls; older ones are dropped and counted. */
  watchQueue: number
}

export const DEFAULT_LIMITS: Readonly<PluginLimits> = Object.freeze({
  // 64 MB holds a parsed multi-MB API response with room; V8's own floor is 8.
  memoryMb: 64,
  // A second of pure CPU is far beyond what glue code needs; a loop is stopped in 1 s.
  cpuMs: 1_000,
  // 30 s covers slow HTTP APIs and short commands; the orchestrator's lease is longer.
  wallMs: 30_000,
  // 1 MiB of JSON per call: instructions carry parameters, not payloads.
  inputBytes: 1024 * 1024,
  outputBytes: 1024 * 1024,
  // Enough to debug a call; a flood beyond this is a bug and fails the call.
  logLines: 1_000,
  logBytes: 256 * 1024,
  // One check producing more than 1000 events is a runaway sensor.
  events: 1_000,
  eventBytes: 256 * 1024,
  // events x eventBytes would let one check hand the agent 256 MiB in one result; a sensor
  // reports changes, and 4 MiB is hundreds of ordinary events.
  eventsBytes: 4 * 1024 * 1024,
  // Keeps one busy plugin from monopolising the sandbox host.
  concurrency: 16,
  // Responses are parsed inside a 64 MB heap; 8 MiB leaves room to parse them.
  fetchResponseBytes: 8 * 1024 * 1024,
  fetchTimeoutMs: 15_000,
  // Browsers allow 20; APIs rarely need more than a couple.
  fetchRedirects: 5,
  execTimeoutMs: 20_000,
  execOutputBytes: 1024 * 1024,
  fsReadBytes: 4 * 1024 * 1024,
  // State is small bookkeeping (cursors, last-seen ids), not storage.
  stateValueBytes: 64 * 1024,
  stateTotalBytes: 1024 * 1024,
  // The largest legitimate argument is a request body or a file to write; the host parses
  // arguments on its own thread, outside the plugin's CPU limit, so they are capped.
  argumentBytes: 8 * 1024 * 1024,
  // Enough for a call to fan out over a handful of hosts or files; each holds a process,
  // a socket or a thread-pool slot of the host until it settles.
  operationsPerCall: 16,
  // Four calls' worth: bounds the processes and sockets one plugin holds on the agent's machine.
  operationsPerPlugin: 64,
  // With cpuMs, a watch may use a tenth of a core on average; with events, 100 a second.
  watchWindowMs: 10_000,
  // A query answers within seconds or is a report, not a check; the lease is longer anyway.
  sqlTimeoutMs: 15_000,
  // Rows are parsed inside a 64 MB heap, as fetch responses are.
  sqlResultBytes: 8 * 1024 * 1024,
  // A relay may greylist or be slow to accept; half a minute, like the default call.
  smtpTimeoutMs: 30_000,
  // A notification, not a newsletter: 10 MB is what common relays accept at most.
  smtpMessageBytes: 10 * 1024 * 1024,
  // A watch reads its stream every few seconds; a thousand waiting changes means it fell
  // behind, and it should re-read the source rather than the host buffer without end.
  watchQueue: 1_000,
})

/** Lower bounds an operator override may not go below. */
export const MIN_LIMITS: Readonly<Partial<PluginLimits>> = Object.freeze({
  // isolated-vm refuses heaps under 8 MB.
  memoryMb: 8,
  cpuMs: 1,
  wallMs: 1,
  concurrency: 1,
  operationsPerCall: 1,
  operationsPerPlugin: 1,
  watchWindowMs: 1,
})

/** How the sandbox host schedules plugin code between its messages. */
export const HOST_SCHEDULE = Object.freeze({
  // Plugin slices run back to back for at most this long (plus the one that overruns it)
  // before the host reads its messages again: short enough to answer a ping at once,
  // long enough that a burst of quick calls costs no extra event-loop turns.
  stretchBudgetMs: 20,
  // CPU time charged to a call for each capability call, besides what its isolate uses: the
  // host's side of one (the message to the agent, the settle, entering the isolate) costs
  // about 0.25 ms, which isolate CPU does not show, so a watch awaiting state.get in a loop
  // kept the host 64% and the agent 32% busy forever while its own CPU stayed in budget.
  capabilityCallCpuMs: 0.25,
})

/**
 * The longest the sandbox host may legitimately not answer: one stretch, plus the longest
 * task (a load runs the bundle and then reads its definition, each under the CPU limit).
 * The supervisor adds this to its hang timeout.
 */
export function hostBusyAllowanceMs(maxCpuMs: number): number {
  return HOST_SCHEDULE.stretchBudgetMs + 2 * maxCpuMs
}

/** How the sandbox host process is watched and restarted. */
export interface SupervisorSettings {
  heartbeatIntervalMs: number
  hangTimeoutMs: number
  restartBackoffMinMs: number
  restartBackoffMaxMs: number
  restartBackoffResetMs: number
  closeGraceMs: number
}

export const SUPERVISOR_DEFAULTS: Readonly<SupervisorSettings> = Object.freeze({
  // A ping a second finds a dead or stuck host quickly without measurable cost.
  heartbeatIntervalMs: 1_000,
  // A plugin slice may block the host for up to its CPU limit; a hang is declared well after.
  hangTimeoutMs: 10_000,
  // First restart is quick (a one-off crash), then backs off to spare a crash-looping host.
  restartBackoffMinMs: 100,
  restartBackoffMaxMs: 10_000,
  // A host that stayed up this long is healthy again: the backoff starts over.
  restartBackoffResetMs: 30_000,
  // Time given to the host to exit on close before it is killed.
  closeGraceMs: 2_000,
})

export const EXEC_DEFAULTS = Object.freeze({
  // A fixed PATH: the agent's own environment never leaks into a plugin's commands.
  path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  // Time between SIGTERM and SIGKILL for a command past its timeout.
  killGraceMs: 2_000,
})
