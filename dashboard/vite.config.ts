import { sveltekit } from '@sveltejs/kit/vite'
import { defineConfig } from 'vite'

// `npm run dev -w @stavily/dashboard` proxies the API to a local orchestrator
// (STAVILY_URL, default http://127.0.0.1:8080), so the page and the API share an origin.
const api = process.env.STAVILY_URL ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [sveltekit()],
  server: { proxy: { '/api': api } },
  // Rolldown reports slow plugins on every build (SvelteKit's compile step is one): noise on
  // a two-core machine, where timings say more about its load than about the build.
  build: { rolldownOptions: { checks: { pluginTimings: false } } },
})
