import adapter from '@sveltejs/adapter-static'

// A single-page app: every page renders in the browser and the orchestrator answers any
// non-API path with index.html (the fallback), so deep links like /runs/<id> work.
/** @type {import('@sveltejs/kit').Config} */
export default {
  kit: {
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
    // Scripts come only from the orchestrator itself (SvelteKit hashes its inline bootstrap),
    // so an injected script cannot run and read the token. Inline styles are allowed: Svelte
    // and SvelteKit's route announcer write style attributes.
    csp: {
      mode: 'hash',
      directives: {
        'default-src': ['self'],
        'style-src': ['self', 'unsafe-inline'],
        'object-src': ['none'],
        'base-uri': ['none'],
        'form-action': ['self'],
      },
    },
  },
}
