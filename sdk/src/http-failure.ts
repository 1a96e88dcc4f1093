import { ErrorCodes, isPluginError, type PluginError } from './errors.ts'

// What a plugin that calls an HTTP service does when the call fails: whether to fail as
// retryable, and which part of the body to show. The same rule in every first-party plugin
// that calls a service (webhook, escalation, http-check, prometheus-query): 5xx is the
// service's trouble, 408 and 429 are the service asking to come back later, any other 4xx is
// a request that will be refused again (a bad token, a bad URL, a bad payload) and is final;
// a fetch the sandbox refused is configuration, not an outage.

/**
 * Whether an error `ctx.fetch` threw is the plugin's configuration to fix rather than the
 * service being unreachable: a host the manifest does not declare or the operator did not
 * grant (`PERMISSION_DENIED`), or a malformed request (`INVALID_ARGUMENT`). Rethrow it as it
 * is; anything else (refused, timed out, DNS) is worth a retry.
 *
 * @example
 * ```ts
 * import { isConfigurationError, PluginError } from '@stavily/sdk'
 * try {
 *   res = await ctx.fetch(url, { method: 'POST', body })
 * } catch (error) {
 *   if (isConfigurationError(error)) throw error
 *   throw new PluginError('UNAVAILABLE', `${url} unreachable`, { retryable: true })
 * }
 * ```
 */
export function isConfigurationError(error: unknown): error is PluginError {
  return (
    isPluginError(error) &&
    (error.code === ErrorCodes.PERMISSION_DENIED || error.code === ErrorCodes.INVALID_ARGUMENT)
  )
}

/**
 * Whether a failed HTTP answer is worth retrying: a 5xx, 408 (request timeout) or 429 (too
 * many requests). Any other status, 4xx above all, is final: the same request would be
 * refused again.
 *
 * @example
 * ```ts
 * import { isRetryableStatus, PluginError } from '@stavily/sdk'
 * if (!res.ok)
 *   throw new PluginError('SEND_FAILED', `HTTP ${res.status}`, { retryable: isRetryableStatus(res.status) })
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429
}

/**
 * A response body for an error message: trimmed, and cut to `max` characters with `…` when
 * longer, so a large error page does not fill the run's record. An empty body gives `''`.
 *
 * @example
 * ```ts
 * import { bodyExcerpt } from '@stavily/sdk'
 * const said = bodyExcerpt(res.body, 300)
 * throw new PluginError('SEND_FAILED', `HTTP ${res.status}${said === '' ? '' : `: ${said}`}`)
 * ```
 */
export function bodyExcerpt(body: string, max = 300): string {
  const text = body.trim()
  return text.length > max ? `${text.slice(0, max)}…` : text
}
