import { isRole, type Role } from './roles.ts'

// Who is signed in: the API token, and the role the API reports for it. The token lives in
// memory and, so that a reload keeps you signed in, in this tab's sessionStorage (gone when
// the tab closes); never in a URL, a cookie or localStorage.

const KEY = 'stavily.token'

export interface Session {
  token: string | null
  role: Role | null
  tokenId: string | null
  /** The instance admin token (the bootstrap token), which alone manages organizations. */
  instanceAdmin: boolean
  /** Why you were signed out (a refused token), shown on the sign-in form. */
  notice: string | null
}

export const session: Session = $state({
  token: null,
  role: null,
  tokenId: null,
  instanceAdmin: false,
  notice: null,
})

function storage(): Storage | undefined {
  try {
    return globalThis.sessionStorage
  } catch {
    return undefined
  }
}

/** The token this tab signed in with, if any (the role is read again from the API). */
export function storedToken(): string | null {
  return storage()?.getItem(KEY) ?? null
}

export function setSignedIn(
  token: string,
  who: { role: unknown; tokenId: unknown; instanceAdmin?: unknown },
): void {
  if (!isRole(who.role)) throw new Error(`whoami: unexpected role ${JSON.stringify(who.role)}`)
  session.token = token
  session.role = who.role
  session.tokenId = typeof who.tokenId === 'string' ? who.tokenId : null
  // An orchestrator before whoami answered it has no instance admin to show.
  session.instanceAdmin = who.instanceAdmin === true
  session.notice = null
  storage()?.setItem(KEY, token)
}

export function signOut(notice: string | null = null): void {
  session.token = null
  session.role = null
  session.tokenId = null
  session.instanceAdmin = false
  session.notice = notice
  storage()?.removeItem(KEY)
}
