// Checks what a bundle's definition says about itself against its manifest and this runtime.
import { isSdkCompatible, SDK_API_VERSION } from '@stavily/sdk/manifest'
import { SandboxErrorCodes, sandboxError } from '../../errors.ts'
import type { LoadRequest, Operation, PluginInfo } from '../protocol.ts'
import { jsonDeeperThan, MAX_VALUE_DEPTH } from './json-depth.ts'
import { findRiskyPattern } from './schema-patterns.ts'

/** A schema is data the host walks while validating; beyond this it is not a schema but a bomb. */
const MAX_SCHEMAS_BYTES = 256 * 1024

const HANDLERS: Record<PluginInfo['kind'], Operation[]> = {
  action: ['run'],
  output: ['send'],
  sensor: ['check', 'watch'],
}

export function checkPluginInfo(described: string, spec: LoadRequest): PluginInfo {
  const where = `plugin ${spec.name}@${spec.version}`
  const fail = (code: (typeof SandboxErrorCodes)[keyof typeof SandboxErrorCodes], message: string) =>
    sandboxError(code, `${where}: ${message}`)
  if (typeof described !== 'string')
    throw fail(SandboxErrorCodes.LOAD_FAILED, 'the bundle did not describe itself')
  if (described.length > MAX_SCHEMAS_BYTES) {
    throw fail(
      SandboxErrorCodes.LOAD_FAILED,
      `its schemas take ${described.length} bytes; the limit is ${MAX_SCHEMAS_BYTES}`,
    )
  }
  // The description is {schemas: {input: schema}}: two levels above a schema's own nesting.
  if (jsonDeeperThan(described, MAX_VALUE_DEPTH + 2)) {
    throw fail(
      SandboxErrorCodes.LOAD_FAILED,
      `its schemas nest deeper than ${MAX_VALUE_DEPTH} levels of arrays and objects`,
    )
  }
  const d = JSON.parse(described) as Record<string, unknown>
  if (typeof d.error === 'string') throw fail(SandboxErrorCodes.LOAD_FAILED, d.error)
  if (d.kind !== spec.kind) {
    throw fail(
      SandboxErrorCodes.LOAD_FAILED,
      `the bundle defines kind ${JSON.stringify(d.kind)} but the manifest says "${spec.kind}"`,
    )
  }
  if (typeof d.sdkApiVersion !== 'string') {
    throw fail(
      SandboxErrorCodes.LOAD_FAILED,
      'the definition has no sdkApiVersion: build it with defineAction/defineOutput/defineSensor',
    )
  }
  // Built against API X.Y.Z, the plugin runs on any host implementing ^X.Y.Z.
  if (!/^\d+\.\d+\.\d+$/.test(d.sdkApiVersion) || !isSdkCompatible(`^${d.sdkApiVersion}`, SDK_API_VERSION)) {
    throw fail(
      SandboxErrorCodes.SDK_INCOMPATIBLE,
      `it was built with SDK API ${d.sdkApiVersion}; this agent implements SDK API ${SDK_API_VERSION}. Rebuild the plugin with a compatible @stavily/sdk or upgrade the agent`,
    )
  }
  const schemas = (d.schemas ?? {}) as PluginInfo['schemas']
  if (typeof schemas !== 'object' || schemas === null || Array.isArray(schemas)) {
    throw fail(SandboxErrorCodes.LOAD_FAILED, 'schemas: expected an object')
  }
  for (const key of ['config', 'input', 'output', 'event'] as const) {
    const s = schemas[key]
    if (s !== undefined && (typeof s !== 'object' || s === null)) {
      throw fail(SandboxErrorCodes.LOAD_FAILED, `schemas.${key}: expected a JSON Schema object`)
    }
  }
  const risky = findRiskyPattern(schemas, 'schemas')
  if (risky) {
    throw fail(
      SandboxErrorCodes.LOAD_FAILED,
      `${risky}; the agent evaluates schema patterns outside the sandbox on a linear-time engine (RE2 syntax): rewrite the pattern without backreferences or lookaround, or check the value in the plugin`,
    )
  }
  const operations = (Array.isArray(d.operations) ? d.operations : []).filter((op): op is Operation =>
    HANDLERS[spec.kind].includes(op as Operation),
  )
  if (operations.length === 0) {
    throw fail(
      SandboxErrorCodes.LOAD_FAILED,
      `a ${spec.kind} plugin needs a ${HANDLERS[spec.kind].join(' or ')} handler; the bundle has none`,
    )
  }
  return { kind: spec.kind, sdkApiVersion: d.sdkApiVersion, schemas, operations }
}
