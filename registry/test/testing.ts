// @stavily/registry/testing: the registry's test helpers for the other packages' tests
// (a Git repository of plugin sources, a Git smart-HTTP server, a proxy that tampers with
// what the registry serves). Imported through this export, never by a path into
// registry/test. Workspace-only: the published package carries dist/ alone.
export { type GitHttpServer, startGitHttpServer } from './helpers/git-http-server.ts'
export { TestRepo } from './helpers/repos.ts'
export { type Rewrite, startTamperProxy } from './helpers/tamper-proxy.ts'
