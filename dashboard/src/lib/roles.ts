// What each role may do in the page. The API enforces every role on every route (a forged
// request still gets 403); these rules only hide or disable what would be refused.

export type Role = 'viewer' | 'operator' | 'admin'

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 }

export function isRole(value: unknown): value is Role {
  return value === 'viewer' || value === 'operator' || value === 'admin'
}

/** Whether `role` is at least `needed` (admin > operator > viewer). */
export function hasRole(role: Role | null | undefined, needed: Role): boolean {
  return role != null && RANK[role] >= RANK[needed]
}

/** Change workflows, runs, agents, plugins, secrets: operator or admin. */
export function canMutate(role: Role | null | undefined): boolean {
  return hasRole(role, 'operator')
}

/** Manage API tokens: admin only. */
export function canAdminister(role: Role | null | undefined): boolean {
  return hasRole(role, 'admin')
}

/** Why a control is disabled, for its title (shown on hover and read by screen readers). */
export function needsRoleHint(role: Role | null | undefined, needed: Role = 'operator'): string | undefined {
  return hasRole(role, needed) ? undefined : `needs the ${needed} role; you are ${role ?? 'signed out'}`
}
