import adapter from '@sveltejs/adapter-static'

// A single-page app: every page renders in the browser and the orchestrator answers any
// non-API path with index.html (the fallback), so deep links like /runs/<id> work.
/** @type {import('@sveltejs/kit').Config} */
export default {
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
    // The token travels in a header, never a cookie, so there is no CSRF surface to guard;
    // scripts and styles come only from the orchestrator itself.
    csp: { mode: 'hash', directives: { 'default-src': ['self'], 'object-src': ['none'] } },
  },
}
