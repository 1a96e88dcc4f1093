import type { FastifyRequest } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backends } from '../../test/helpers/backends.ts'
import { newSecret } from '../auth/secrets.ts'
import { migrate } from '../db/migrate.ts'
import type { Database } from '../db/sql-client.ts'
import { DEFAULTS } from '../defaults.ts'
import { StavilyError } from '../errors.ts'
import { MemoryFleet } from '../fleet/memory-fleet.ts'
import { Agents } from '../services/agents.ts'
import type { Services } from '../services/context.ts'
import { LiveStream } from '../services/live-stream.ts'
import { Tenancy } from '../services/tenancy.ts'
import type { Role } from '../types.ts'
import { agentAuth, operatorAuth, parseBearer } from './auth.ts'

// The one parse of `Authorization` for authentication and rate limits: every spelling of a
// credential gives the same key, and anything but "Bearer <visible ASCII>" gives none (a 401).

describe('parseBearer', () => {
  it('takes the scheme in any case and the credential without the whitespace around it', () => {
    for (const header of [
      'Bearer abc.DEF_1-~',
      'bearer abc.DEF_1-~',
      'BEARER\tabc.DEF_1-~',
      ' \tBearer   abc.DEF_1-~ \t',
    ]) {
      expect(parseBearer(header), JSON.stringify(header)).toBe('abc.DEF_1-~')
    }
  })

  it('gives nothing for another scheme, a missing or split credential, or anything around the header', () => {
    for (const header of [
      'Basic abc',
      'Bearerabc',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'x Bearer abc',
      'Bearer abc x',
      'Bearer abc\n',
      '\nBearer abc',
      'Bearer ab\u007fc',
      'Bearer abé',
      '',
    ]) {
      expect(parseBearer(header), JSON.stringify(header)).toBeUndefined()
    }
    expect(parseBearer(undefined)).toBeUndefined()
    expect(parseBearer(['Bearer abc'])).toBeUndefined()
  })
})

// The guards of both APIs on a real database: what each refusal says, and who gets in.
for (const backend of backends()) {
  describe(`agentAuth and operatorAuth on ${backend.name}`, () => {
    let db: Database
    let services: Services
    let org: string
    const tokens: Record<Role, string> = { viewer: '', operator: '', admin: '' }
    let instanceAdmin: string
    beforeAll(async () => {
      db = await backend.open()
      await migrate(db)
      const tuning = { ...DEFAULTS }
      const fleet = new MemoryFleet()
      const tenancy = new Tenancy(db, tuning)
      const agents = new Agents(db, fleet, tuning, new LiveStream(fleet))
      services = { tenancy, agents } as Services
      instanceAdmin = (await tenancy.bootstrap())!.adminToken
      const created = await tenancy.createOrganization('acme')
      org = created.organization.id
      tokens.admin = created.adminToken
      for (const role of ['viewer', 'operator'] as const)
        tokens[role] = (await tenancy.createApiToken(org, { name: role, role })).token
    })
    afterAll(async () => {
      await db.close()
      await backend.cleanup()
    })

    const request = (authorization?: string) =>
      ({ headers: authorization === undefined ? {} : { authorization } }) as FastifyRequest
    const refusal = async (guard: (req: FastifyRequest) => Promise<void>, req: FastifyRequest) => {
      const err = await guard(req).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(StavilyError)
      const e = err as StavilyError
      return { code: e.code, message: e.message, data: e.data }
    }

    it('refuses a request without a bearer credential, naming the header', async () => {
      for (const guard of [agentAuth(services), operatorAuth(services, 'viewer')]) {
        for (const header of [undefined, 'Basic abc', 'Bearer']) {
          expect(await refusal(guard, request(header))).toEqual({
            code: 'STAVILY_ERR_UNAUTHENTICATED',
            message: 'authorization: expected "Bearer <credential>"',
            data: { field: 'authorization' },
          })
        }
      }
    })

    it('lets a token in at its role or below, never above, and records the principal', async () => {
      const order: Role[] = ['viewer', 'operator', 'admin']
      for (const [i, needed] of order.entries()) {
        for (const [j, has] of order.entries()) {
          const req = request(`Bearer ${tokens[has]}`)
          if (j >= i) {
            await operatorAuth(services, needed)(req)
            expect(req.principal, `${has} for ${needed}`).toMatchObject({
              orgId: org,
              role: has,
              instanceAdmin: false,
            })
          } else {
            expect(await refusal(operatorAuth(services, needed), req), `${has} for ${needed}`).toEqual({
              code: 'STAVILY_ERR_FORBIDDEN',
              message: `authorization: this needs the ${needed} role; the token has ${has}`,
              data: undefined,
            })
            expect(req.principal).toBeUndefined()
          }
        }
      }
    })

    it('keeps instance routes to the bootstrap token, not an organization admin', async () => {
      const req = request(`Bearer ${instanceAdmin}`)
      await operatorAuth(services, 'instance')(req)
      expect(req.principal).toMatchObject({ role: 'admin', instanceAdmin: true })
      for (const role of ['admin', 'viewer'] as const) {
        const denied = request(`Bearer ${tokens[role]}`)
        expect(await refusal(operatorAuth(services, 'instance'), denied)).toMatchObject({
          code: 'STAVILY_ERR_FORBIDDEN',
          message:
            'authorization: this needs the instance admin token (the bootstrap token); organization admins manage only their own organization',
        })
        expect(denied.principal).toBeUndefined()
      }
    })

    it('refuses an unknown API token or an agent credential on the operator API', async () => {
      const agent = await services.agents.register({
        enrollmentToken: (await services.tenancy.createEnrollmentToken(org, { kind: 'action', pool: 'web' }))
          .token,
        name: 'a1',
      })
      for (const token of [newSecret('api'), agent.credential]) {
        expect(await refusal(operatorAuth(services, 'viewer'), request(`Bearer ${token}`))).toEqual({
          code: 'STAVILY_ERR_UNAUTHENTICATED',
          message: 'authorization: unknown API token',
          data: { field: 'authorization' },
        })
      }
    })

    it('rotates only the current credential: one already rotated away cannot mint another', async () => {
      const { agent, credential } = await services.agents.register({
        enrollmentToken: (await services.tenancy.createEnrollmentToken(org, { kind: 'action', pool: 'web' }))
          .token,
        name: 'rotating',
      })
      const next = await services.agents.rotate(agent, credential)
      // The old credential, as an instance that still remembers it would present it.
      const again = await services.agents.rotate(agent, credential).then(
        () => undefined,
        (e: unknown) => e as StavilyError,
      )
      expect(again).toMatchObject({ code: 'STAVILY_ERR_UNAUTHENTICATED', data: { field: 'authorization' } })
      const req = request(`Bearer ${next}`)
      await agentAuth(services)(req)
      expect(req.agent?.id).toBe(agent.id)
    })

    it('lets an enrolled agent in, refuses an unknown credential or an API token, and tells a revoked agent to enroll again', async () => {
      const { agent, credential } = await services.agents.register({
        enrollmentToken: (await services.tenancy.createEnrollmentToken(org, { kind: 'action', pool: 'web' }))
          .token,
        name: 'a2',
      })
      const req = request(`bearer  ${credential} `)
      await agentAuth(services)(req)
      expect(req.agent).toMatchObject({ id: agent.id, orgId: org })
      for (const token of [newSecret('agent'), tokens.admin]) {
        expect(await refusal(agentAuth(services), request(`Bearer ${token}`))).toEqual({
          code: 'STAVILY_ERR_UNAUTHENTICATED',
          message: 'authorization: unknown agent credential',
          data: { field: 'authorization' },
        })
      }
      await services.agents.revoke(org, agent.id)
      const revoked = request(`Bearer ${credential}`)
      expect(await refusal(agentAuth(services), revoked)).toEqual({
        code: 'STAVILY_ERR_AGENT_REVOKED',
        message: 'authorization: this agent credential was revoked; enroll again',
        data: { field: 'authorization' },
      })
      expect(revoked.agent).toBeUndefined()
    })
  })
}
