// Stands in for make-fetch-happen in the bundled agent. tuf-js requires it only for its
// default fetcher, and the registry client always passes its own (Node's fetch), so the
// real package — with iconv-lite, cacache, glob and socks, about 1 MB of code the agent
// would hold in memory for nothing — is left out of the bundle.
module.exports = function makeFetchHappenIsNotBundled() {
  throw new Error('make-fetch-happen is not bundled into stavily-agent: pass the registry client its fetcher')
}
