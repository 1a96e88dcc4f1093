// The dry-run form: an event pasted as JSON, a recorded sensor event's id, or the event a
// run started with, turned into the API's `event` ({ data, type?, source? } | { eventId } |
// { runId }). Errors name the form field, as the API's do.

export type DryRunMode = 'data' | 'eventId' | 'runId'

export type DryRunEvent =
  | { data: unknown; type?: string; source?: string }
  | { eventId: string }
  | { runId: string }

export function dryRunEvent(
  mode: DryRunMode,
  text: string,
): { ok: true; event: DryRunEvent } | { ok: false; error: string } {
  const value = text.trim()
  if (mode === 'eventId' || mode === 'runId') {
    if (!value) return { ok: false, error: `${mode === 'runId' ? 'run id' : 'event id'}: required` }
    return { ok: true, event: mode === 'runId' ? { runId: value } : { eventId: value } }
  }
  if (!value) return { ok: false, error: 'event: paste the event data as JSON, e.g. {"service": "nginx"}' }
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch (e) {
    return { ok: false, error: `event: not JSON (${e instanceof Error ? e.message : String(e)})` }
  }
  // A pasted whole event ({ data, type, source }) is taken as it is; anything else is its data.
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const keys = Object.keys(parsed)
    if (keys.includes('data') && keys.every((k) => k === 'data' || k === 'type' || k === 'source')) {
      return { ok: true, event: parsed as DryRunEvent }
    }
  }
  return { ok: true, event: { data: parsed } }
}
