// A single-page app: pages render in the browser only (the orchestrator serves the fallback
// index.html for every path), so nothing is prerendered or rendered on a server.
export const ssr = false
export const prerender = false
