export {
  findWireProblem,
  stringProblem,
  toWireSafe,
  toWireSafeString,
  WIRE_LIMITS,
  type WireProblem,
} from './wire-value.ts'
