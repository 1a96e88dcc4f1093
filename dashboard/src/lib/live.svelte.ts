import { API } from './api.ts'
import { session, signOut } from './session.svelte.ts'
import { type LiveEvent, LiveStream, type StreamState } from './stream.ts'

// The page's one live stream, shared by every page that shows live data; its state is shown
// in the header so a stale page never passes for a live one.

export const liveStatus: { state: StreamState; detail: string | undefined } = $state({
  state: 'idle',
  detail: undefined,
})

export const live = new LiveStream({
  url: `${API}/stream`,
  token: () => session.token,
  onState(state, detail) {
    liveStatus.state = state
    liveStatus.detail = detail
  },
  onUnauthorized: (message) => signOut(`Signed out: ${message}. Sign in again.`),
})

export type { LiveEvent }
