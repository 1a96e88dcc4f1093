import { createHash } from 'node:crypto'
import { checkGitCredentials, type GitCredential } from '@stavily/registry'
import type { SecretStore } from '../secrets/index.ts'

// Git credentials for publishing from private repositories, per organization: each is an
// organization secret (encrypted at rest like any other), so one organization's access to a
// Git host is never used for another's publish. A secret's name is derived from the host
// (GIT_CREDENTIAL_<hash>); its value is the JSON { host, username?, token? | password? }.
// SSH keys are not taken here: a key file path would be the orchestrator's, not the
// organization's.

export const GIT_CREDENTIAL_PREFIX = 'GIT_CREDENTIAL_'

export interface GitCredentialInput {
  username?: string
  token?: string
  password?: string
}

export interface GitCredentialInfo {
  host: string
  username: string | null
  kind: 'token' | 'password'
  updatedAt: string
}

export function credentialSecretName(host: string): string {
  return `${GIT_CREDENTIAL_PREFIX}${createHash('sha256').update(host.toLowerCase()).digest('hex').slice(0, 32).toUpperCase()}`
}

export class GitCredentials {
  readonly #secrets: SecretStore

  constructor(secrets: SecretStore) {
    this.#secrets = secrets
  }

  /** Stores (or replaces) the organization's credential for `host`; fails naming the field. */
  async set(
    orgId: string,
    host: string,
    input: GitCredentialInput,
  ): Promise<{ created: boolean; host: string }> {
    // Only these fields: an SSH key file path would name a file of the orchestrator's host.
    const { username, token, password } = input
    const [cred] = checkGitCredentials('credential', [{ host, username, token, password }])
    const value = JSON.stringify({
      host: cred!.host,
      ...(cred!.username !== undefined ? { username: cred!.username } : {}),
      ...(cred!.token !== undefined ? { token: cred!.token } : {}),
      ...(cred!.password !== undefined ? { password: cred!.password } : {}),
    })
    const { created } = await this.#secrets.set(orgId, credentialSecretName(cred!.host), value)
    return { created, host: cred!.host }
  }

  async remove(orgId: string, host: string): Promise<boolean> {
    return this.#secrets.delete(orgId, credentialSecretName(host))
  }

  /** The organization's credentials, for its publishes only. */
  async forPublish(orgId: string): Promise<GitCredential[]> {
    return (await this.#read(orgId)).map((c) => c.credential)
  }

  /** Hosts and user names, never the secrets. */
  async list(orgId: string): Promise<GitCredentialInfo[]> {
    return (await this.#read(orgId)).map(({ credential: c, updatedAt }) => ({
      host: c.host,
      username: c.username ?? null,
      kind: c.token !== undefined ? ('token' as const) : ('password' as const),
      updatedAt,
    }))
  }

  async #read(orgId: string): Promise<{ credential: GitCredential; updatedAt: string }[]> {
    const infos = (await this.#secrets.list(orgId)).filter((s) => s.name.startsWith(GIT_CREDENTIAL_PREFIX))
    if (infos.length === 0) return []
    const values = await this.#secrets.getExisting(
      orgId,
      infos.map((s) => s.name),
    )
    const out: { credential: GitCredential; updatedAt: string }[] = []
    for (const info of infos) {
      const raw = values[info.name]
      if (raw === undefined) continue
      try {
        const [credential] = checkGitCredentials(info.name, [JSON.parse(raw)])
        // Only a secret stored under its own host's name counts (not one set by hand elsewhere).
        if (credential && credentialSecretName(credential.host) === info.name)
          out.push({ credential, updatedAt: info.updatedAt })
      } catch {
        // Not a credential this module wrote (an operator set the name by hand): ignored.
      }
    }
    return out.sort((a, b) => a.credential.host.localeCompare(b.credential.host))
  }
}
